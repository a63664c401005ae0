import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SendFailed } from '../app/send-guard.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../testing/webhook-receiver.ts';
import { HttpWebhookPoster, type Resolve } from './http-webhook-poster.ts';

/**
 * Issue 22, SSRF: the poster resolves the host when it sends, checks every address, and connects to
 * the address it checked. A real receiver on loopback; the resolver is scripted (this machine has
 * no DNS of its own to point a name inside).
 */
describe('HttpWebhookPoster against a receiver (loopback)', () => {
  let receiver: WebhookReceiver;
  let port: number;
  const lookups: string[] = [];
  const names: Record<string, string[]> = {
    'hooks.test': ['127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'mixed.test': ['93.184.216.34', '10.0.0.7'],
    'nat64.test': ['64:ff9b::a9fe:a9fe'],
  };
  const resolve: Resolve = async (host) => {
    lookups.push(host);
    return (names[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const request = (host: string) => ({
    url: `http://${host}:${port}/hooks`,
    body: '{"ok":true}',
    secret: 'whsec_test_secret_0123456789',
    idempotencyKey: 'k-1',
    eventId: 'e-1',
    eventType: 'order.paid',
    webhookId: 'w-1',
  });

  before(async () => {
    receiver = await startWebhookReceiver();
    port = Number(new URL(receiver.url).port);
  });
  after(async () => {
    await receiver?.close();
  });

  it('delivers through a name that resolves to an allowed address, connecting to the one it checked', async () => {
    const poster = new HttpWebhookPoster({ timeoutMs: 5000, allowLoopback: true, resolve });
    await poster.post(request('hooks.test'));
    assert.equal(receiver.received().length, 1);
    assert.ok(lookups.includes('hooks.test'));
  });

  it('refuses, permanently and before connecting, a name that resolves inside', async () => {
    const poster = new HttpWebhookPoster({ timeoutMs: 5000, resolve });
    const before = receiver.received().length;
    for (const [host, reason] of [
      ['hooks.test', /hooks\.test resolves to 127\.0\.0\.1: a loopback address, not called/],
      ['metadata.test', /resolves to 169\.254\.169\.254: a internal address/],
      ['mixed.test', /resolves to 10\.0\.0\.7/],
      ['nat64.test', /resolves to 64:ff9b::a9fe:a9fe/],
      ['127.0.0.1', /127\.0\.0\.1: a loopback address/],
      ['[::ffff:169.254.169.254]', /internal address/],
    ] as const) {
      await assert.rejects(poster.post(request(host)), (error: SendFailed) => {
        assert.ok(error instanceof SendFailed, String(error));
        assert.equal(error.permanent, true, `${host}: ${error.message}`);
        assert.match(error.message, reason);
        return true;
      });
    }
    assert.equal(receiver.received().length, before, 'nothing reached the receiver');
  });

  it('treats a name without addresses as a transient failure', async () => {
    const poster = new HttpWebhookPoster({ timeoutMs: 5000, resolve });
    await assert.rejects(poster.post(request('nowhere.test')), (error: SendFailed) => {
      assert.equal(error.permanent, false);
      return true;
    });
  });
});
