import { catalog, dataSchemaUri } from '@conveyor/contracts';
import { waitUntil } from '@conveyor/stack';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import type { ChaosSystem } from './chaos-system.ts';
import type { ExperimentChecks } from './experiments.ts';

/**
 * Poison: the projections and notifications consumers must dead-letter both
 * messages with a reason at once (never retry them) and carry on with the rest.
 */
export async function poisonMessages(
  system: ChaosSystem,
  note: (line: string) => void,
): Promise<ExperimentChecks> {
  const nc = await connect({ ...system.natsOptions(), timeout: 3000 });
  const problems: string[] = [];
  const details: string[] = [];
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const definition = catalog.find((d) => d.type === 'order.created')!;
    const ids = { unknownVersion: uuidv7(), badData: uuidv7() };
    for (const [kind, id] of Object.entries(ids)) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', id);
      h.set('ce-specversion', '1.0');
      h.set('ce-id', id);
      h.set('ce-type', 'order.created');
      h.set('ce-source', 'chaos/poison');
      h.set('ce-time', new Date().toISOString());
      h.set('ce-dataschema', dataSchemaUri('order.created', kind === 'unknownVersion' ? 99 : 1));
      h.set('content-type', 'application/json');
      const data = kind === 'unknownVersion' ? definition.examples[0] : { orderId: 'not-a-uuid' };
      await js.publish('order.created', JSON.stringify(data), { headers: h });
    }
    const wanted = ['orders-projections', 'notifications'].flatMap((consumer) =>
      Object.entries(ids).map(([kind, id]) => ({ consumer, kind, id })),
    );
    const found = new Map<string, string>();
    await waitUntil(
      async () => {
        const info = await jsm.streams.info('DEADLETTERS');
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await jsm.streams.getMessage('DEADLETTERS', { seq }).catch(() => undefined);
          if (!m) continue;
          const ceId = m.header.get('ce-id');
          const consumer = m.header.get('Conveyor-Dead-Letter-Consumer');
          if (ceId && Object.values(ids).includes(ceId)) {
            found.set(`${consumer}/${ceId}`, m.header.get('Conveyor-Dead-Letter-Reason'));
          }
        }
        return wanted.every((w) => found.has(`${w.consumer}/${w.id}`));
      },
      { timeoutMs: 20_000, intervalMs: 500, message: 'poison messages were not dead-lettered' },
    ).catch((error: Error) => problems.push(error.message));
    for (const w of wanted) {
      const reason = found.get(`${w.consumer}/${w.id}`);
      if (reason === undefined) problems.push(`${w.consumer} did not dead-letter the ${w.kind} message`);
      else if (!/poison/.test(reason))
        problems.push(`${w.consumer} dead-lettered ${w.kind} without a poison reason: ${reason}`);
      else details.push(`${w.consumer} ${w.kind}: ${reason.slice(0, 70)}${reason.length > 70 ? '…' : ''}`);
    }
    note(details.join('; '));
    return { problems, details };
  } finally {
    await nc.close();
  }
}
