import type { ServiceProbe } from '../app/ops-snapshot.ts';

/** Asks a service's ops port (/readyz, /metrics) with a timeout on every request. */
export function httpServiceProbe(name: string, baseUrl: string, timeoutMs: number): ServiceProbe {
  const base = baseUrl.replace(/\/$/, '');
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text() };
  };
  return {
    name,
    async readyz() {
      const { status, text } = await get('/readyz');
      try {
        const report = JSON.parse(text) as { ready?: boolean; checks?: Record<string, string> };
        return { ready: status === 200 && report.ready === true, checks: report.checks ?? {} };
      } catch {
        return { ready: false, checks: { readyz: `answered ${status}` } };
      }
    },
    async metrics() {
      const { status, text } = await get('/metrics');
      if (status !== 200) throw new Error(`${name} /metrics answered ${status}`);
      return text;
    },
  };
}
