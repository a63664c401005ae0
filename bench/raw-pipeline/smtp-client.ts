import { connect, type Socket } from 'node:net';

/**
 * The raw pipeline's mailer: a pool of plain SMTP connections, each sending one mail at a time
 * (MAIL, RCPT, DATA, message), as a hand-written sender would. Nothing is parsed beyond reply
 * codes. A connection that fails is dropped; the mail's promise rejects.
 */
export interface RawMailer {
  send(mail: { from: string; to: string; data: string }): Promise<void>;
  close(): void;
}

class Connection {
  readonly #socket: Socket;
  #buffer = '';
  #lines: string[] = [];
  #waiting: ((reply: { code: number; error?: Error }) => void) | undefined;
  broken = false;

  constructor(port: number) {
    this.#socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.#socket.setEncoding('latin1');
    this.#socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (let end = this.#buffer.indexOf('\r\n'); end !== -1; end = this.#buffer.indexOf('\r\n')) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        this.#lines.push(line);
        if (line[3] !== '-') {
          const code = Number(line.slice(0, 3));
          this.#lines = [];
          this.#waiting?.({ code });
        }
      }
    });
    const fail = (error: Error) => {
      this.broken = true;
      this.#waiting?.({ code: 0, error });
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail(new Error('smtp connection closed')));
  }

  #reply(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting = ({ code, error }) => {
        this.#waiting = undefined;
        if (error) reject(error);
        else resolve(code);
      };
    });
  }

  async #command(line: string | undefined, expect: number): Promise<void> {
    const reply = this.#reply();
    if (line !== undefined) this.#socket.write(line);
    const code = await reply;
    if (code !== expect) throw new Error(`smtp: expected ${expect}, got ${code}`);
  }

  async open(): Promise<void> {
    await this.#command(undefined, 220);
    await this.#command('EHLO raw-pipeline\r\n', 250);
  }

  async send(mail: { from: string; to: string; data: string }): Promise<void> {
    await this.#command(`MAIL FROM:<${mail.from}>\r\n`, 250);
    await this.#command(`RCPT TO:<${mail.to}>\r\n`, 250);
    await this.#command('DATA\r\n', 354);
    await this.#command(`${mail.data.replace(/^\./gm, '..')}\r\n.\r\n`, 250);
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
  }
}

export function rawMailer(port: number, poolSize: number): RawMailer {
  const idle: Connection[] = [];
  let open = 0;
  const queue: { resolve: (c: Connection) => void; reject: (e: unknown) => void }[] = [];
  const connectNew = async (): Promise<Connection> => {
    open++;
    const c = new Connection(port);
    try {
      await c.open();
      return c;
    } catch (error) {
      open--;
      throw error;
    }
  };
  const acquire = (): Promise<Connection> => {
    const ready = idle.pop();
    if (ready) return Promise.resolve(ready);
    if (open < poolSize) return connectNew();
    return new Promise((resolve, reject) => queue.push({ resolve, reject }));
  };
  const release = (c: Connection) => {
    const next = queue.shift();
    if (!c.broken) {
      if (next) next.resolve(c);
      else idle.push(c);
      return;
    }
    open--;
    // The waiter gets a new connection in place of the broken one.
    if (next) connectNew().then(next.resolve, next.reject);
  };
  return {
    async send(mail) {
      const c = await acquire();
      try {
        await c.send(mail);
      } catch (error) {
        c.broken = true;
        c.close();
        throw error;
      } finally {
        release(c);
      }
    },
    close() {
      for (const c of idle.splice(0)) c.close();
    },
  };
}
