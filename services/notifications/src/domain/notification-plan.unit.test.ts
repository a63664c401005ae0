import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalog } from '@conveyor/contracts';
import { planFor } from './notification-plan.ts';

describe('planFor', () => {
  it('welcomes a new user by name, in text and escaped HTML', () => {
    const plan = planFor('user.created', {
      userId: 'u1',
      email: 'ada@example.com',
      name: 'Ada <Lovelace>',
      createdAt: '2026-11-24T09:30:00.000Z',
    });
    assert.equal(plan.kind, 'welcome');
    if (plan.kind !== 'welcome') return;
    assert.deepEqual(plan.recipient, { userId: 'u1', email: 'ada@example.com', name: 'Ada <Lovelace>' });
    assert.equal(plan.message.subject, 'Welcome to Conveyor');
    assert.match(plan.message.text, /^Hello Ada <Lovelace>,/);
    assert.match(plan.message.html, /Hello Ada &lt;Lovelace&gt;,/);
  });

  it("tells an account's owner that someone tried to sign up with their address", () => {
    const plan = planFor('user.signup_attempted', {
      userId: 'u1',
      attemptedAt: '2026-12-05T10:00:00.000Z',
    });
    assert.equal(plan.kind, 'notify-user');
    if (plan.kind !== 'notify-user') return;
    assert.equal(plan.userId, 'u1');
    const message = plan.render({ userId: 'u1', email: 'ada@example.com', name: 'Ada' });
    assert.equal(message.subject, 'A sign-up with your address');
    assert.match(message.text, /^Hello Ada,/);
    assert.match(message.text, /2026-12-05 10:00 UTC/);
    assert.match(message.text, /Nothing changed/);
  });

  it('forgets an erased user', () => {
    assert.deepEqual(planFor('user.erased', { userId: 'u1', erasedAt: '2026-12-01T10:00:00.000Z' }), {
      kind: 'forget-user',
      userId: 'u1',
    });
  });

  it('renders every order event example for its user, with money formatted', () => {
    const to = { userId: 'u', email: 'ada@example.com', name: 'Ada' };
    for (const definition of catalog.filter((d) => d.type.startsWith('order.'))) {
      const plan = planFor(definition.type, definition.examples[0]);
      assert.equal(plan.kind, 'notify-user', definition.type);
      if (plan.kind !== 'notify-user') continue;
      const message = plan.render(to);
      assert.match(message.subject, /a001/, definition.type);
      assert.match(message.text, /^Hello Ada,/);
    }
    const created = planFor('order.created', catalog.find((d) => d.type === 'order.created')!.examples[0]);
    assert.ok(created.kind === 'notify-user');
    assert.match(created.render(to).text, /Total: €25\.00/);
  });

  it('ignores events it has no use for', () => {
    assert.deepEqual(planFor('order.refunded', {}), { kind: 'ignore' });
  });
});
