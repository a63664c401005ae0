import nodemailer, { type Transporter } from 'nodemailer';
import type { Mailer, OutgoingMail } from '../app/ports.ts';

/**
 * Mail over SMTP with a small connection pool. Every mail carries the
 * Message-ID it is given (derived from the event id), so a retried send is
 * recognisably the same message. Time-outs keep a stalled server from
 * holding a consumer slot for long.
 */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(options: { url: string; from: string; timeoutMs?: number }) {
    const timeout = options.timeoutMs ?? 10_000;
    const url = new URL(options.url);
    this.#transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 4,
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
    await this.#transport.sendMail({
      from: this.#from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
    });
  }

  close(): void {
    this.#transport.close();
  }
}
