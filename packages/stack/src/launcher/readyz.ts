export interface ReadyzResult {
  ready: boolean;
  /** Short reason when not ready, e.g. "503 (nats: failing)" or "no answer". */
  detail: string;
  /** How many dependency checks the answer listed. */
  checks: number;
}

function checksOf(body: unknown): [string, string][] {
  const checks = (body as { checks?: Record<string, string> } | null)?.checks;
  return checks && typeof checks === 'object' ? Object.entries(checks) : [];
}

/** GET <opsUrl>/readyz: ready on 200; never throws. */
export async function probeReadyz(opsUrl: string, timeoutMs = 1000): Promise<ReadyzResult> {
  try {
    const response = await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const checks = checksOf(await response.json().catch(() => undefined));
    if (response.status === 200) return { ready: true, detail: 'ready', checks: checks.length };
    const failing = checks.filter(([, state]) => state !== 'ok').map(([name, state]) => `${name}: ${state}`);
    const detail = `${response.status}${failing.length ? ` (${failing.join(', ')})` : ''}`;
    return { ready: false, detail, checks: checks.length };
  } catch {
    return { ready: false, detail: 'no answer', checks: 0 };
  }
}
