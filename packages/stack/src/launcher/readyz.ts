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

/** GET <opsUrl>/readyz: ready on 200; never throws; gives up after `timeoutMs`. */
export async function probeReadyz(opsUrl: string, timeoutMs = 1000): Promise<ReadyzResult> {
  try {
    const { status, body } = await httpGet(new URL('/readyz', opsUrl), timeoutMs);
    const checks = checksOf(parseJson(body));
    if (status === 200) return { ready: true, detail: 'ready', checks: checks.length };
    const failing = checks.filter(([, state]) => state !== 'ok').map(([name, state]) => `${name}: ${state}`);
    const detail = `${status}${failing.length ? ` (${failing.join(', ')})` : ''}`;
    return { ready: false, detail, checks: checks.length };
  } catch {
    return { ready: false, detail: 'no answer', checks: 0 };
  }
}

/**
 * A GET's status and body (at most 64 KiB of it), within `timeoutMs`; redirects are not followed.
 * On node:http(s), not fetch: loading undici and its parser cost each `conveyor status` about 30 ms,
 * for a few small GETs.
 */
export function httpGet(url: URL, timeoutMs: number): Promise<{ status: number; body: string }> {
  // getBuiltinModule, not import(): an ESM import of node:http reads its lazy exports, undici too.
  const { get } = process.getBuiltinModule(url.protocol === 'https:' ? 'node:https' : 'node:http');
  return new Promise((resolve, reject) => {
    const request = get(url, { signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 64 * 1024) request.destroy(new Error('answer too long'));
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
