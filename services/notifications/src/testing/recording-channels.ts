import type { Mailer, OutgoingMail } from '../app/mailer.ts';
import { SendFailed, type SendGuard } from '../app/send-guard.ts';
import type { OutgoingWebhook, WebhookPoster } from '../app/webhook-poster.ts';

/**
 * A channel that records what it sent. `failNext(n, permanent)` makes the next n sends fail
 * (transiently unless `permanent`), as a mail server or webhook receiver would.
 */
class RecordingChannel<T> {
  readonly sent: T[] = [];
  #failures: { left: number; permanent: boolean } = { left: 0, permanent: false };

  failNext(times: number, permanent = false): void {
    this.#failures = { left: times, permanent };
  }

  protected async deliver(item: T): Promise<void> {
    if (this.#failures.left > 0) {
      this.#failures.left--;
      throw new SendFailed(
        this.#failures.permanent ? '550 refused' : '451 try again later',
        this.#failures.permanent,
      );
    }
    this.sent.push(structuredClone(item));
  }
}

export class RecordingMailer extends RecordingChannel<OutgoingMail> implements Mailer {
  send(mail: OutgoingMail): Promise<void> {
    return this.deliver(mail);
  }
}

export class RecordingWebhookPoster extends RecordingChannel<OutgoingWebhook> implements WebhookPoster {
  post(request: OutgoingWebhook): Promise<void> {
    return this.deliver(request);
  }
}

/** A guard without breakers: every send is tried, its failure reported as the real guard does. */
export const alwaysClosedGuard: SendGuard = {
  async run(_key, send) {
    try {
      await send();
      return { kind: 'sent' };
    } catch (error) {
      return {
        kind: 'failed',
        error: (error as Error).message,
        permanent: error instanceof SendFailed && error.permanent,
        probe: false,
      };
    }
  },
  admits: () => Number.POSITIVE_INFINITY,
};
