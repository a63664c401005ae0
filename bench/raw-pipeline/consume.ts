import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Pulls from a durable consumer and runs `handle` on up to `concurrency` messages at once; a
 * message is acknowledged when `handle` resolves and redelivered after a short delay when it
 * throws. The raw pipeline's whole consumer: no middleware, spans, metrics or dead letters.
 */
export async function consume(
  nc: NatsConnection,
  stream: string,
  durable: string,
  concurrency: number,
  handle: (data: Uint8Array, headers: Map<string, string>) => Promise<void>,
): Promise<{ stop(): Promise<void> }> {
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: concurrency });
  const inFlight = new Set<Promise<void>>();
  let freed: (() => void) | undefined;
  const loop = (async () => {
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) await new Promise<void>((r) => (freed = r));
      const headers = new Map<string, string>();
      for (const [key, values] of msg.headers ?? []) headers.set(key, values[0] ?? '');
      const work: Promise<void> = handle(msg.data, headers)
        .then(
          () => msg.ack(),
          (error) => {
            console.error(`${durable}: ${(error as Error).message}`);
            msg.nak(1000);
          },
        )
        .finally(() => {
          inFlight.delete(work);
          freed?.();
        });
      inFlight.add(work);
    }
  })();
  return {
    async stop() {
      await messages.close();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
