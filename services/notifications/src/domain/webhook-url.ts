import { isIP } from 'node:net';

export interface WebhookUrlPolicy {
  /**
   * Accept loopback hosts (127.0.0.0/8, ::1, localhost), over http:// too.
   * For development and tests only: in production it would let anyone who
   * can register a webhook make the service call its own host.
   */
  allowLoopback: boolean;
}

/** Why a URL is refused, in words for the `url` field's error. */
export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; problem: string };

const maxLength = 2048;

/**
 * Decides whether `raw` may be a webhook target: an absolute https URL
 * (http only for loopback when allowed), no credentials or fragment, and no
 * IP literal in a private, link-local or otherwise internal range. Host names
 * are not resolved here, so a name that points inside the network passes;
 * egress filtering is the network's job.
 */
export function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy): WebhookUrlCheck {
  if (raw.length === 0) return { ok: false, problem: 'is required' };
  if (raw.length > maxLength) return { ok: false, problem: `is longer than ${maxLength} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: `${JSON.stringify(raw)} is not an absolute URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, problem: `must use https, not ${url.protocol.replace(/:$/, '')}` };
  }
  if (url.username || url.password) return { ok: false, problem: 'must not carry credentials' };
  if (url.hash) return { ok: false, problem: 'must not have a fragment' };
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const loopback = isLoopback(host);
  if (loopback && !policy.allowLoopback) {
    return { ok: false, problem: 'must not point at a loopback host' };
  }
  if (url.protocol === 'http:' && !loopback) {
    return { ok: false, problem: 'must use https (http is accepted for loopback hosts in development only)' };
  }
  if (!loopback && isIP(host) !== 0 && isInternalAddress(host)) {
    return { ok: false, problem: `must not point at the internal address ${host}` };
  }
  return { ok: true, url: url.toString() };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '::ffff:127.0.0.1' || /^::ffff:7f/.test(host);
  return false;
}

function isInternalAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  if (v6.startsWith('::ffff:')) {
    const mapped = v6.slice(7);
    return isIP(mapped) === 4 ? isInternalAddress(mapped) : true;
  }
  return v6 === '::' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith('ff');
}
