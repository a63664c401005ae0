import { promises as dns, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { SendFailed } from '../app/send-guard.ts';
import type { OutgoingWebhook, WebhookPoster } from '../app/webhook-poster.ts';
import { classifyAddress } from '../domain/webhook-address.ts';
import { signatureHeader, signWebhook } from '../domain/webhook-signature.ts';

/** Every address a host name resolves to (the system resolver by default). */
export type Resolve = (host: string) => Promise<LookupAddress[]>;

export interface HttpWebhookPosterOptions {
  /** Whole exchange, connect to response headers. */
  timeoutMs: number;
  /** Loopback targets (development and tests only, like WEBHOOK_ALLOW_LOOPBACK at registration). */
  allowLoopback?: boolean;
  /** Clock for the signature timestamp. */
  now?: () => Date;
  resolve?: Resolve;
}

/** A target refused before any connection: its host is, or resolves to, a non-public address. */
class InternalTarget extends Error {
  readonly code = 'CONVEYOR_INTERNAL_TARGET';
}

/**
 * POSTs webhooks with node:http(s). The host is resolved when the webhook is sent, every address it
 * resolves to must be public (issue 22, SSRF: a name registered as public may point inside later),
 * and the socket connects to the address that was checked, never to a second lookup's answer. Each
 * request carries the body signed with the webhook's secret (Conveyor-Signature: t=…,v1=HMAC-SHA256
 * of "t.body"), an Idempotency-Key that is the same for every resend of one notification, and the
 * event's id and type. Redirects are not followed. 2xx is delivered; 408, 429 and 5xx, time-outs and
 * network errors are transient; any other answer, and an internal target, is permanent.
 */
export class HttpWebhookPoster implements WebhookPoster {
  readonly #timeoutMs: number;
  readonly #allowLoopback: boolean;
  readonly #now: () => Date;
  readonly #resolve: Resolve;

  constructor(options: HttpWebhookPosterOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#allowLoopback = options.allowLoopback ?? false;
    this.#now = options.now ?? (() => new Date());
    this.#resolve = options.resolve ?? ((host) => dns.lookup(host, { all: true, verbatim: true }));
  }

  async post(request: OutgoingWebhook): Promise<void> {
    const url = new URL(request.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const timestamp = Math.floor(this.#now().getTime() / 1000);
    let response: IncomingMessage;
    try {
      if (isIP(host) !== 0) this.#check(host, host);
      response = await this.#send(url, request, timestamp);
    } catch (error) {
      if (error instanceof InternalTarget) throw new SendFailed(`webhook: ${error.message}`, true);
      const why =
        (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError'
          ? `no answer within ${this.#timeoutMs} ms`
          : ((error as { code?: string }).code ?? (error as Error).message);
      throw new SendFailed(`webhook: ${why}`, false);
    }
    // The answer's body is not needed; release the connection without reading it.
    response.resume();
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    const transient = status === 408 || status === 429 || status >= 500;
    throw new SendFailed(`webhook: answered ${status} ${response.statusMessage ?? ''}`.trim(), !transient);
  }

  /** Throws InternalTarget unless `address` may be called. */
  #check(host: string, address: string): void {
    const kind = classifyAddress(address);
    if (kind === 'public' || (kind === 'loopback' && this.#allowLoopback)) return;
    const what = host === address ? host : `${host} resolves to ${address}`;
    throw new InternalTarget(`${what}: a ${kind} address, not called`);
  }

  /** The socket's lookup: resolve, check every address, answer only checked ones. */
  #lookup: LookupFunction = (hostname, options, callback) => {
    this.#resolve(hostname).then(
      (addresses) => {
        try {
          if (addresses.length === 0)
            throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
          for (const a of addresses) this.#check(hostname, a.address);
          if (options.all) callback(null, addresses);
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        } catch (error) {
          callback(error as NodeJS.ErrnoException, '', 0);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };

  #send(url: URL, request: OutgoingWebhook, timestamp: number): Promise<IncomingMessage> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        lookup: this.#lookup,
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body),
          'user-agent': 'Conveyor-Webhooks/1',
          'idempotency-key': request.idempotencyKey,
          [signatureHeader]: signWebhook(request.secret, timestamp, request.body),
          'conveyor-event-id': request.eventId,
          'conveyor-event-type': request.eventType,
          'conveyor-webhook-id': request.webhookId,
        },
      });
      req.once('response', resolve);
      // The lookup's own error (an InternalTarget) arrives here as it was thrown.
      req.once('error', reject);
      req.end(request.body);
    });
  }
}
