import { connect, type Socket } from 'node:net';

export interface RawMail {
  port: number;
  host?: string;
  from: string;
  to: string[];
  /** The message (headers, blank line, body); line endings are normalised to CRLF. */
  data: string;
  timeoutMs?: number;
}

export interface SmtpReply {
  code: number;
  text: string;
}

/** Reads complete (possibly multi-line) SMTP replies from a socket. */
function replyReader(socket: Socket): () => Promise<SmtpReply> {
  let buffer = '';
  const queue: SmtpReply[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let text: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      text.push(line.slice(4));
      if (line[3] !== '-') {
        queue.push({ code: Number(line.slice(0, 3)), text: text.join('\n') });
        text = [];
      }
    }
    wake?.();
  });
  const fail = (error: Error): void => {
    failure ??= error;
    wake?.();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed by the SMTP server')));
  return async () => {
    while (queue.length === 0) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    return queue.shift()!;
  };
}

/**
 * A minimal SMTP client for tests: sends one message and returns the final reply, or the
 * first reply that was not a success (e.g. 421 from an unavailable server).
 */
export async function sendRawMail(mail: RawMail): Promise<SmtpReply> {
  const socket = connect({ host: mail.host ?? '127.0.0.1', port: mail.port });
  socket.setTimeout(mail.timeoutMs ?? 5000, () => socket.destroy(new Error('SMTP conversation timed out')));
  const next = replyReader(socket);
  const command = async (line: string | undefined, expected: number): Promise<SmtpReply | undefined> => {
    if (line !== undefined) socket.write(`${line}\r\n`);
    const reply = await next();
    return reply.code === expected ? undefined : reply;
  };
  const body = `${mail.data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')}\r\n.`;
  try {
    const steps: Array<[string | undefined, number]> = [
      [undefined, 220],
      ['EHLO localhost', 250],
      [`MAIL FROM:<${mail.from}>`, 250],
      ...mail.to.map((to): [string, number] => [`RCPT TO:<${to}>`, 250]),
      ['DATA', 354],
    ];
    for (const [line, expected] of steps) {
      const failed = await command(line, expected);
      if (failed) return failed;
    }
    socket.write(`${body}\r\n`);
    const accepted = await next();
    await command('QUIT', 221).catch(() => undefined);
    return accepted;
  } finally {
    socket.destroy();
  }
}
