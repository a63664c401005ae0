import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GiveUp, RetryLater } from '@conveyor/platform';
import type { DeliveryDecision, SendOutcome } from '../domain/delivery-decision.ts';
import { dispatchNotifications, SendInProgress } from './dispatch-notifications.ts';
import type {
  ClaimedNotification,
  Notification,
  NotificationStore,
  OutgoingMail,
  OutgoingWebhook,
} from './ports.ts';

function notification(overrides: Partial<Notification>): Notification {
  return {
    id: 'n-email',
    userId: 'u1',
    eventId: 'e1',
    eventType: 'user.created',
    channel: 'email',
    recipient: 'ada@example.com',
    webhookId: undefined,
    message: { subject: 'Hi', text: 'Hello', html: '<p>Hello</p>' },
    status: 'pending',
    attempts: 0,
    failures: 0,
    lastError: undefined,
    createdAt: new Date(0),
    sentAt: undefined,
    lastAttemptAt: undefined,
    ...overrides,
  };
}

/** An in-memory store: rows by id; ids in `busy` are locked by another delivery. */
function fakeStore(rows: Notification[], busy = new Set<string>()) {
  const applied: [string, DeliveryDecision][] = [];
  const store: NotificationStore = {
    handleOnce: async () => true,
    deliveryState: async () => ({
      pending: rows.filter((r) => r.status === 'pending').map((r) => r.id),
      failed: rows.filter((r) => r.status === 'failed'),
    }),
    async deliverOne(id, deliver) {
      if (busy.has(id)) return 'busy';
      const row = rows.find((r) => r.id === id)!;
      const claimed: ClaimedNotification = {
        notification: row,
        webhook: row.channel === 'webhook' ? { url: 'https://hooks.example.com/in', secret: 's' } : undefined,
      };
      const decision = await deliver(claimed);
      applied.push([id, decision]);
      Object.assign(row, { status: decision.status, attempts: row.attempts + (decision.attempted ? 1 : 0) });
      return 'applied';
    },
    resetFailed: async () => 0,
    list: async () => [],
  };
  return { store, applied };
}

function deps(
  store: NotificationStore,
  outcomes: Record<string, Exclude<SendOutcome, { kind: 'target-gone' }>>,
) {
  const mails: OutgoingMail[] = [];
  const hooks: OutgoingWebhook[] = [];
  return {
    mails,
    hooks,
    dispatch: dispatchNotifications({
      store,
      mailer: { send: async (m) => void mails.push(m) },
      webhooks: { post: async (w) => void hooks.push(w) },
      guard: {
        async run(key, send) {
          const outcome = outcomes[key] ?? { kind: 'sent' };
          if (outcome.kind === 'sent') await send();
          return outcome;
        },
      },
      mailDomain: 'conveyor.local',
      now: () => new Date(0),
      random: () => 0.5,
      maxDeliver: 5,
      maxAttempts: 3,
      backoffMs: [100, 1000],
    }),
  };
}

const delivery = (deliveryCount: number) => ({
  subject: 'user.created',
  stream: 'USERS',
  streamSequence: 1,
  deliveryCount,
});

describe('dispatchNotifications', () => {
  it('sends the mail with a Message-ID and the webhook with an idempotency key derived from the event', async () => {
    const { store } = fakeStore([
      notification({}),
      notification({
        id: 'n-hook',
        channel: 'webhook',
        webhookId: 'w1',
        message: { subject: 'user.created', text: '{}', html: '' },
      }),
    ]);
    const { dispatch, mails, hooks } = deps(store, {});
    await dispatch('e1', delivery(1));
    assert.equal(mails[0]?.messageId, '<e1.email@conveyor.local>');
    assert.deepEqual(
      [hooks[0]?.idempotencyKey, hooks[0]?.body, hooks[0]?.url],
      ['e1.w1', '{}', 'https://hooks.example.com/in'],
    );
  });

  it('sends what the first handling just recorded without reading the event’s state back', async () => {
    const { store, applied } = fakeStore([notification({}), notification({ id: 'n-old' })]);
    store.deliveryState = async () => assert.fail('deliveryState read although the pending ids were given');
    const { dispatch, mails } = deps(store, {});
    await dispatch('e1', delivery(1), { pending: ['n-email'] });
    assert.equal(mails.length, 1);
    assert.deepEqual(
      applied.map(([id]) => id),
      ['n-email'],
    );
  });

  it('sends what it can and retries a held mail after the breaker hint, without an attempt', async () => {
    const { store, applied } = fakeStore([
      notification({}),
      notification({ id: 'n-hook', channel: 'webhook', webhookId: 'w1' }),
    ]);
    const { dispatch, hooks } = deps(store, {
      smtp: { kind: 'held', retryInMs: 2000, reason: 'circuit smtp open' },
    });
    await assert.rejects(dispatch('e1', delivery(2)), (e: unknown) => {
      assert.ok(e instanceof RetryLater);
      assert.equal(e.delayMs, 2000); // 2000 × (0.8 + 0.4 × 0.5)
      assert.match(e.message, /email n-email held: circuit smtp open/);
      return true;
    });
    assert.equal(hooks.length, 1);
    assert.deepEqual(
      applied.map(([id, d]) => [id, d.status, d.attempted]),
      [
        ['n-email', 'pending', false],
        ['n-hook', 'sent', true],
      ],
    );
  });

  it('gives up with the attempts and a reason that names no address', async () => {
    const { store } = fakeStore([notification({ attempts: 2, failures: 2 })]);
    const { dispatch } = deps(store, {
      smtp: { kind: 'failed', error: 'smtp: 421 try later', permanent: false, probe: false },
    });
    await assert.rejects(dispatch('e1', delivery(3)), (e: unknown) => {
      assert.ok(e instanceof GiveUp);
      assert.equal(e.attempts, 3);
      assert.equal(e.message, 'email n-email after 3 attempt(s): smtp: 421 try later');
      return true;
    });
  });

  it('gives up again on a redelivery that finds the notification already failed', async () => {
    const { store } = fakeStore([notification({ status: 'failed', attempts: 3, lastError: 'smtp: 550' })]);
    await assert.rejects(deps(store, {}).dispatch('e1', delivery(1)), GiveUp);
  });

  it('is not done while another delivery holds a notification', async () => {
    const { store } = fakeStore([notification({})], new Set(['n-email']));
    await assert.rejects(deps(store, {}).dispatch('e1', delivery(1)), SendInProgress);
  });

  it('cancels a delivery to a deleted webhook and acknowledges', async () => {
    const rows = [notification({ id: 'n-hook', channel: 'webhook', webhookId: 'w1' })];
    const { store, applied } = fakeStore(rows);
    const gone = {
      ...store,
      deliverOne: (
        id: string,
        deliver: (c: ClaimedNotification) => Promise<DeliveryDecision>,
        now: () => Date,
      ) => store.deliverOne(id, (c) => deliver({ ...c, webhook: undefined }), now),
    };
    await deps(gone, {}).dispatch('e1', delivery(1));
    assert.deepEqual(
      applied.map(([, d]) => [d.status, d.lastError]),
      [['cancelled', 'webhook deleted']],
    );
  });
});
