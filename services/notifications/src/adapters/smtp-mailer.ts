import { withoutAddresses } from '@conveyor/platform';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Mailer, OutgoingMail } from '../app/mailer.ts';
import { SendFailed } from '../app/send-guard.ts';

/**
 * Mail over SMTP with a small connection pool. Every mail carries the
 * Message-ID it is given (derived from the event id), so a retried send is
 * recognisably the same message. Time-outs keep a stalled server from
 * holding a consumer slot for long.
 */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(options: { url: string; from: string; timeoutMs?: number; poolSize?: number }) {
    const timeout = options.timeoutMs ?? 10_000;
    const url = new URL(options.url);
    this.#transport = nodemailer.createTransport({
      pool: true,
      maxConnections: options.poolSize ?? 4,
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
      secure: url.protocol === 'smtps:',
      ignoreTLS: url.searchParams.get('tls') === 'off',
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    this.#from = options.from;
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
    } catch (error) {
      throw classifySmtpError(error);
    }
  }

  close(): void {
    this.#transport.close();
  }
}

/**
 * A 5xx reply to this message's envelope or content (unknown mailbox,
 * message refused) is permanent: resending cannot help. Everything else —
 * 4xx replies, refused or dropped connections, time-outs, and 5xx replies to
 * authentication, which fail every mail alike — is the channel's trouble and
 * transient.
 */
export function classifySmtpError(error: unknown): SendFailed {
  const e = error as { code?: string; responseCode?: number; message?: string };
  const reply = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
  const permanent =
    reply !== undefined && reply >= 500 && reply < 600 && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE');
  const message = withoutAddresses((e?.message ?? String(error)).replace(/\s+/g, ' ')).slice(0, 500);
  return new SendFailed(`smtp: ${message}`, permanent);
}
