import { type JsMsg, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface RawMessage {
  data: Uint8Array;
  headers: Map<string, string>;
}

/**
 * Pulls from a durable consumer and hands its messages to `handle` in batches, as Conveyor's
 * consumer does: the first message alone at once, those arriving meanwhile together next, up to
 * `batchSize`, one batch at a time. A batch is acknowledged when `handle` resolves and redelivered
 * after a short delay when it throws. No middleware, spans, metrics or dead letters.
 */
export async function consume(
  nc: NatsConnection,
  stream: string,
  durable: string,
  batchSize: number,
  handle: (batch: RawMessage[]) => Promise<void>,
): Promise<{ stop(): Promise<void> }> {
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: batchSize * 2 });
  const pending: JsMsg[] = [];
  let running: Promise<void> | undefined;
  let room: (() => void) | undefined;
  const drain = async () => {
    while (pending.length > 0) {
      const batch = pending.splice(0, batchSize);
      room?.();
      const raw = batch.map((msg) => {
        const headers = new Map<string, string>();
        for (const [key, values] of msg.headers ?? []) headers.set(key, values[0] ?? '');
        return { data: msg.data, headers };
      });
      await handle(raw).then(
        () => {
          for (const msg of batch) msg.ack();
        },
        (error) => {
          console.error(`${durable}: ${(error as Error).message}`);
          for (const msg of batch) msg.nak(1000);
        },
      );
    }
  };
  const loop = (async () => {
    for await (const msg of messages) {
      pending.push(msg);
      running ??= drain().finally(() => {
        running = undefined;
      });
      while (pending.length >= batchSize) await new Promise<void>((r) => (room = r));
    }
  })();
  return {
    async stop() {
      await messages.close();
      room?.();
      await loop;
      while (running) await running;
    },
  };
}
