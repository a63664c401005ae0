import { type OutgoingWebhook, SendFailed, type WebhookPoster } from '../app/ports.ts';
import { signatureHeader, signWebhook } from '../domain/webhook-signature.ts';

export interface HttpWebhookPosterOptions {
  /** Whole exchange, connect to response headers. */
  timeoutMs: number;
  /** Clock for the signature timestamp. */
  now?: () => Date;
}

/**
 * POSTs webhooks with node's fetch. Each request carries the body signed
 * with the webhook's secret (Conveyor-Signature: t=…,v1=HMAC-SHA256 of
 * "t.body"), an Idempotency-Key that is the same for every resend of one
 * notification, and the event's id and type. Redirects are not followed (a
 * moved endpoint is re-registered, not chased). 2xx is delivered; 408, 429
 * and 5xx, time-outs and network errors are transient; any other answer is
 * permanent for this notification.
 */
export class HttpWebhookPoster implements WebhookPoster {
  readonly #timeoutMs: number;
  readonly #now: () => Date;

  constructor(options: HttpWebhookPosterOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? (() => new Date());
  }

  async post(request: OutgoingWebhook): Promise<void> {
    const timestamp = Math.floor(this.#now().getTime() / 1000);
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Conveyor-Webhooks/1',
          'idempotency-key': request.idempotencyKey,
          [signatureHeader]: signWebhook(request.secret, timestamp, request.body),
          'conveyor-event-id': request.eventId,
          'conveyor-event-type': request.eventType,
          'conveyor-webhook-id': request.webhookId,
        },
        body: request.body,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${this.#timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new SendFailed(`webhook: ${why}`, false);
    }
    // The answer's body is not needed; release the connection without reading much.
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) return;
    const transient = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new SendFailed(`webhook: answered ${response.status} ${response.statusText}`.trim(), !transient);
  }
}
