import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { MailStore, type ReceivedMail, type WaitForOptions } from './mail-store.ts';
import { type SinkHttpServer, startSinkHttp } from './smtp-sink-http.ts';

export type { ReceivedMail, WaitForOptions } from './mail-store.ts';

export interface SmtpSinkOptions {
  /** 0 or undefined: a random free port. */
  smtpPort?: number;
  /** When given (0 = random), a web UI is served on it. */
  httpPort?: number;
  host?: '127.0.0.1';
  /** Messages kept in memory, newest win; default 1000. */
  capacity?: number;
}

export interface SmtpSink {
  smtpPort: number;
  httpPort: number | undefined;
  /** Received messages, oldest first. */
  messages(): ReceivedMail[];
  waitFor(predicate: (mail: ReceivedMail) => boolean, opts?: WaitForOptions): Promise<ReceivedMail[]>;
  clear(): void;
  /** While false, new mails are refused with 421 (temporary failure) at MAIL FROM. */
  setAvailable(available: boolean): void;
  /** Refuses mail to `address` with 550, naming it as real servers do ("<x@y>: ... rejected"). */
  refuseRecipient(address: string): void;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

async function receive(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
): Promise<Omit<ReceivedMail, 'id'>> {
  const parsed = await simpleParser(stream);
  const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return {
    messageId: parsed.messageId ?? '',
    from: parsed.from?.text || envelopeFrom,
    to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: parsed.html || '',
    receivedAt: new Date().toISOString(),
    headers: parsed.headerLines.map((header) => header.line),
  };
}

/** A local SMTP server (no auth, no TLS) that keeps what it receives, for development and tests. */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = opts.host ?? '127.0.0.1';
  const store = new MailStore(opts.capacity ?? 1000);
  let available = true;
  const refused = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 1000,
    size: 25 * 1024 * 1024,
    onMailFrom(_address, _session, callback) {
      callback(available ? null : smtpError(421, 'Service temporarily unavailable, try again later'));
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      callback(
        refused.has(to) ? smtpError(550, `5.1.1 <${to}>: Recipient address rejected: User unknown`) : null,
      );
    },
    onData(stream, session, callback) {
      receive(stream, session).then(
        (mail) => {
          store.add(mail);
          callback(null);
        },
        (error: unknown) => {
          stream.resume();
          callback(smtpError(451, `could not parse the message: ${String(error)}`));
        },
      );
    },
  });
  server.on('error', () => {});
  const smtpPort = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.smtpPort ?? 0, host, () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
  let http: SinkHttpServer | undefined;
  try {
    if (opts.httpPort !== undefined) http = await startSinkHttp(store, opts.httpPort, host);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    smtpPort,
    httpPort: http?.port,
    messages: () => store.all(),
    waitFor: (predicate, waitOpts) => store.waitFor(predicate, waitOpts),
    clear: () => store.clear(),
    refuseRecipient(address) {
      refused.add(address.toLowerCase());
    },
    setAvailable(value) {
      available = value;
    },
    close() {
      closing ??= (async () => {
        store.failWaiters(new Error('smtp sink closed while waiting for messages'));
        await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), http?.close()]);
      })();
      return closing;
    },
  };
}
