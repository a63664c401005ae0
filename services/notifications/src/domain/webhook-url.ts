import { isIP } from 'node:net';
import { classifyAddress } from './webhook-address.ts';

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
 * IP literal in a special-purpose range (classifyAddress). Host names are
 * resolved when a webhook is sent, and every address checked then
 * (HttpWebhookPoster): a name may point elsewhere by then.
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
  if (!loopback && isIP(host) !== 0 && classifyAddress(host) !== 'public') {
    return { ok: false, problem: `must not point at the internal address ${host}` };
  }
  return { ok: true, url: url.toString() };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && classifyAddress(host) === 'loopback';
}
