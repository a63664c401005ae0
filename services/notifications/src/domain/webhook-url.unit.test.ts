import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkWebhookUrl } from './webhook-url.ts';

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

describe('checkWebhookUrl', () => {
  it('accepts https URLs and normalises them', () => {
    assert.deepEqual(checkWebhookUrl('https://Hooks.Example.com/in?x=1', strict), {
      ok: true,
      url: 'https://hooks.example.com/in?x=1',
    });
  });

  it('accepts http only for loopback hosts, and loopback only when allowed', () => {
    assert.equal(checkWebhookUrl('http://127.0.0.1:8080/hook', dev).ok, true);
    assert.equal(checkWebhookUrl('http://[::1]:8080/hook', dev).ok, true);
    assert.equal(checkWebhookUrl('http://localhost/hook', dev).ok, true);
    assert.deepEqual(checkWebhookUrl('http://127.0.0.1:8080/hook', strict), {
      ok: false,
      problem: 'must not point at a loopback host',
    });
    assert.match(
      (checkWebhookUrl('http://hooks.example.com/in', dev) as { problem: string }).problem,
      /must use https/,
    );
  });

  it('refuses what is not a plain web URL', () => {
    for (const [url, problem] of [
      ['', /is required/],
      ['hooks.example.com/in', /not an absolute URL/],
      ['ftp://hooks.example.com/in', /must use https, not ftp/],
      ['https://user:pw@hooks.example.com/in', /credentials/],
      ['https://hooks.example.com/in#part', /fragment/],
      [`https://hooks.example.com/${'a'.repeat(2100)}`, /longer than 2048/],
    ] as const) {
      const result = checkWebhookUrl(url, strict);
      assert.equal(result.ok, false, url);
      assert.match((result as { problem: string }).problem, problem, url);
    }
  });

  it('refuses internal IP literals even over https', () => {
    for (const host of ['10.0.0.5', '192.168.1.1', '172.16.0.1', '169.254.169.254', '[fd00::1]', '0.0.0.0']) {
      const result = checkWebhookUrl(`https://${host}/hook`, dev);
      assert.equal(result.ok, false, host);
    }
    assert.equal(checkWebhookUrl('https://93.184.216.34/hook', strict).ok, true);
  });
});
