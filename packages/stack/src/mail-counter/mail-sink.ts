import { type ChildProcess, fork } from 'node:child_process';
import type { SinkCount, SinkRequest } from './sink-process.ts';

export type { SinkCount } from './sink-process.ts';

/** The benchmark's SMTP sink process, seen from the load generator. */
export interface MailSink {
  port: number;
  pid: number;
  count(): Promise<SinkCount>;
  /** When each Message-ID key (the part before '@') first arrived, epoch ms; null when never. */
  firstSeen(keys: readonly string[]): Promise<(number | null)[]>;
  stop(): Promise<void>;
}

type Answer = { id: number; count?: SinkCount; times?: (number | null)[] };
type Request = SinkRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Starts the sink (bench/mail-sink/sink-process.ts) as a child process on a free loopback port. */
export async function startMailSink(): Promise<MailSink> {
  const child = fork(new URL('./sink-process.ts', import.meta.url).pathname, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the mail sink exited (${code}) before it listened`)));
    child.once('message', (m: { type: string; port: number }) => resolve(m.port));
  });
  child.removeAllListeners('exit');
  const ask = asker(child);
  return {
    port,
    pid: child.pid ?? 0,
    count: async () => (await ask({ type: 'count' })).count!,
    firstSeen: async (keys) => {
      const times: (number | null)[] = [];
      // In slices: one IPC message per 50k keys keeps each message small.
      for (let i = 0; i < keys.length; i += 50_000) {
        times.push(...(await ask({ type: 'times', keys: keys.slice(i, i + 50_000) })).times!);
      }
      return times;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask({ type: 'stop' }).catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Request/answer over the IPC channel, matched by id; each answer within 30 s. */
function asker(child: ChildProcess) {
  let next = 1;
  const waiting = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  child.on('message', (answer: Answer) => {
    waiting.get(answer.id)?.resolve(answer);
    waiting.delete(answer.id);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`the mail sink exited (${code})`));
    waiting.clear();
  });
  return (request: Request): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the mail sink did not answer ${request.type} within 30 s`));
      }, 30_000);
      waiting.set(id, {
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ ...request, id });
    });
}
