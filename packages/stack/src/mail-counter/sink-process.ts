/**
 * A counting SMTP sink (the benchmark's, and tests that time mails under load), a process of its
 * own so its CPU is counted apart from the load generator's and neither delays the other. It accepts every mail, reads only the Message-ID,
 * counts, and remembers when each Message-ID first arrived (up to CAPACITY of them) and how many
 * arrived again: a second copy of a Message-ID is a duplicate effect.
 *
 * Started by mail-sink.ts with an IPC channel; answers its requests (see SinkRequest).
 */
import { createServer, type Socket } from 'node:net';
import { greeting, SmtpSession } from './smtp-session.ts';

export type SinkRequest =
  | { id: number; type: 'count' }
  | { id: number; type: 'times'; keys: string[] }
  | { id: number; type: 'stop' };

export interface SinkCount {
  /** Mails accepted. */
  mails: number;
  /** Mails whose Message-ID had arrived before. */
  duplicates: number;
  /** Mails without a Message-ID. */
  withoutId: number;
  /** Message-IDs not remembered because the sink was full (their duplicates go unseen). */
  overflow: number;
}

const CAPACITY = Number(process.env.MAIL_SINK_CAPACITY ?? 2_000_000);
const now = () => performance.timeOrigin + performance.now();

/** Keyed by the Message-ID's part before '@' (Conveyor's is `<event id>.<channel>`). */
const firstSeen = new Map<string, number>();
const count: SinkCount = { mails: 0, duplicates: 0, withoutId: 0, overflow: 0 };
const sockets = new Set<Socket>();

function received(messageId: string, at: number): void {
  count.mails++;
  if (messageId === '') {
    count.withoutId++;
    return;
  }
  const key = messageId.split('@')[0]!;
  if (firstSeen.has(key)) count.duplicates++;
  else if (firstSeen.size < CAPACITY) firstSeen.set(key, at);
  else count.overflow++;
}

const server = createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  const session = new SmtpSession();
  socket.write(greeting);
  socket.on('data', (chunk: Buffer) => {
    const out = session.feed(chunk);
    const at = now();
    for (const id of out.mails) received(id, at);
    if (out.replies.length > 0) socket.write(out.replies.join(''));
    if (out.close) socket.end();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});

process.on('message', (request: SinkRequest) => {
  switch (request.type) {
    case 'count':
      process.send?.({ id: request.id, count });
      return;
    case 'times':
      process.send?.({ id: request.id, times: request.keys.map((k) => firstSeen.get(k) ?? null) });
      return;
    case 'stop':
      for (const socket of sockets) socket.destroy();
      server.close(() => {
        process.send?.({ id: request.id, stopped: true }, () => process.exit(0));
      });
      return;
  }
});
// The parent went away: nothing to report to any more.
process.on('disconnect', () => process.exit(0));
