/**
 * The server side of one SMTP connection, as little as a benchmark sink needs: it answers the
 * commands a client sends on the way to a delivery (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
 * finds the end of each message and reads only its Message-ID header. Pure: bytes in, replies and
 * received mails out, so it is tested without sockets.
 *
 * Bounds: a command line over 4 KB or a message over 1 MB is refused and the connection closed.
 */
export interface SessionOutput {
  /** Lines to write back, each ending in CRLF. */
  replies: string[];
  /** Message-ID of each mail accepted by this chunk ('' when the mail had none). */
  mails: string[];
  /** The client said QUIT or broke a limit: close after writing the replies. */
  close: boolean;
}

const CRLF = Buffer.from('\r\n');
const END_OF_DATA = Buffer.from('\r\n.\r\n');
const MAX_LINE = 4096;
const MAX_MESSAGE = 1024 * 1024;

export const greeting = '220 bench-mail-sink ESMTP\r\n';

export class SmtpSession {
  #buffer: Buffer = Buffer.alloc(0);
  #inData = false;

  feed(chunk: Buffer): SessionOutput {
    const out: SessionOutput = { replies: [], mails: [], close: false };
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (!out.close) {
      if (this.#inData) {
        if (!this.#takeMessage(out)) break;
        continue;
      }
      const end = this.#buffer.indexOf(CRLF);
      if (end === -1) {
        if (this.#buffer.length > MAX_LINE) {
          out.replies.push('500 line too long\r\n');
          out.close = true;
        }
        break;
      }
      const line = this.#buffer.subarray(0, end).toString('latin1');
      this.#buffer = this.#buffer.subarray(end + 2);
      this.#command(line, out);
    }
    return out;
  }

  #command(line: string, out: SessionOutput): void {
    const verb = line.slice(0, 4).toUpperCase();
    switch (verb) {
      case 'EHLO':
        out.replies.push('250-bench-mail-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
        return;
      case 'HELO':
      case 'MAIL':
      case 'RCPT':
      case 'RSET':
      case 'NOOP':
        out.replies.push('250 OK\r\n');
        return;
      case 'DATA':
        out.replies.push('354 end with <CRLF>.<CRLF>\r\n');
        this.#inData = true;
        return;
      case 'QUIT':
        out.replies.push('221 bye\r\n');
        out.close = true;
        return;
      default:
        out.replies.push('502 command not implemented\r\n');
    }
  }

  /** Takes one complete message off the buffer; false when it has not all arrived yet. */
  #takeMessage(out: SessionOutput): boolean {
    // An empty message is the terminator alone, at the start of the data.
    const empty = this.#buffer.subarray(0, 3).equals(END_OF_DATA.subarray(2));
    const end = empty ? 0 : this.#buffer.indexOf(END_OF_DATA);
    if (end === -1) {
      if (this.#buffer.length > MAX_MESSAGE) {
        out.replies.push('552 message too large\r\n');
        out.close = true;
      }
      return false;
    }
    out.mails.push(messageIdOf(this.#buffer.subarray(0, end)));
    this.#buffer = this.#buffer.subarray(empty ? 3 : end + END_OF_DATA.length);
    this.#inData = false;
    out.replies.push('250 OK queued\r\n');
    return true;
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** The Message-ID header's value without its angle brackets; only the header block is read. */
export function messageIdOf(message: Buffer): string {
  const headerEnd = message.indexOf(HEADER_END);
  const headers = message.subarray(0, headerEnd === -1 ? message.length : headerEnd).toString('latin1');
  const match = /^message-id:[ \t]*<?([^>\r\n]*)>?/im.exec(headers);
  return match?.[1]?.trim() ?? '';
}
