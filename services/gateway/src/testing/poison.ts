import { randomUUID } from 'node:crypto';
import { dataSchemaUri } from '@conveyor/contracts';
import { jetstream } from '@nats-io/jetstream';
import { type ConnectionOptions, connect, headers as natsHeaders } from '@nats-io/transport-node';

/**
 * Publishes a message the notification consumer cannot decode (not JSON, an
 * unknown event version) on an order subject, so it is dead-lettered at once.
 */
export async function publishPoison(nats: ConnectionOptions, subject = 'order.paid'): Promise<string> {
  const nc = await connect(nats);
  try {
    const id = randomUUID();
    const h = natsHeaders();
    h.set('ce-specversion', '1.0');
    h.set('ce-id', id);
    h.set('ce-type', subject);
    h.set('ce-source', 'gateway-test');
    h.set('ce-time', new Date().toISOString());
    h.set('ce-subject', randomUUID());
    h.set('ce-dataschema', dataSchemaUri(subject, 7));
    h.set('content-type', 'application/json');
    await jetstream(nc).publish(subject, new TextEncoder().encode('{"poison":true}'), {
      headers: h,
      msgID: id,
    });
    return id;
  } finally {
    await nc.close();
  }
}
