import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendRawMail } from './raw-smtp.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

const mail = (subject: string, to = 'ada@example.test'): string =>
  [
    'From: "Conveyor" <no-reply@conveyor.test>',
    `To: ${to}`,
    `Subject: ${subject}`,
    'Message-ID: <abc-123@conveyor.test>',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello <Ada>,',
    '.a line starting with a dot',
    'bye',
  ].join('\n');

describe('smtp sink', () => {
  let sink: SmtpSink;
  let base: string;
  before(async () => {
    sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    base = `http://127.0.0.1:${sink.httpPort}`;
  });
  after(() => sink.close());

  it('receives and parses a message', async () => {
    const waiting = sink.waitFor((m) => m.subject === 'Welcome');
    const reply = await sendRawMail({
      port: sink.smtpPort,
      from: 'no-reply@conveyor.test',
      to: ['ada@example.test', 'bcc@example.test'],
      data: mail('Welcome'),
    });
    assert.equal(reply.code, 250);
    const [received] = await waiting;
    assert.ok(received);
    assert.equal(received.messageId, '<abc-123@conveyor.test>');
    assert.equal(received.from, '"Conveyor" <no-reply@conveyor.test>');
    assert.deepEqual(received.to, ['ada@example.test', 'bcc@example.test']);
    assert.equal(received.text.trim(), 'Hello <Ada>,\n.a line starting with a dot\nbye');
    assert.equal(received.html, '');
    assert.ok(received.headers.some((line) => line.startsWith('Subject: Welcome')));
  });

  it('waitFor counts and times out with a clear message', async () => {
    for (const n of [1, 2]) {
      await sendRawMail({
        port: sink.smtpPort,
        from: 'a@x.test',
        to: ['b@x.test'],
        data: mail(`Batch ${n}`),
      });
    }
    const batch = await sink.waitFor((m) => m.subject.startsWith('Batch'), { count: 2, timeoutMs: 2000 });
    assert.equal(batch.length, 2);
    await assert.rejects(
      sink.waitFor((m) => m.subject === 'never', { timeoutMs: 100 }),
      /timed out after 100 ms/,
    );
  });

  it('refuses mail with 421 while unavailable', async () => {
    sink.setAvailable(false);
    const before = sink.messages().length;
    const reply = await sendRawMail({
      port: sink.smtpPort,
      from: 'a@x.test',
      to: ['b@x.test'],
      data: mail('Down'),
    });
    assert.equal(reply.code, 421);
    assert.equal(sink.messages().length, before);
    sink.setAvailable(true);
    const ok = await sendRawMail({
      port: sink.smtpPort,
      from: 'a@x.test',
      to: ['b@x.test'],
      data: mail('Up'),
    });
    assert.equal(ok.code, 250);
  });

  it('serves the web UI and JSON API', async () => {
    const list = await fetch(`${base}/`);
    assert.equal(list.status, 200);
    const html = await list.text();
    assert.match(html, /<html lang="en">/);
    assert.ok(html.indexOf('>Up</a>') < html.indexOf('>Welcome</a>'), 'newest first');

    const messages = (await (await fetch(`${base}/api/messages`)).json()) as Array<{
      id: number;
      subject: string;
    }>;
    const welcome = messages.find((m) => m.subject === 'Welcome');
    assert.ok(welcome);
    const detail = await (await fetch(`${base}/messages/${welcome.id}`)).text();
    assert.match(detail, /Hello &#60;Ada&#62;,/);
    assert.equal((await fetch(`${base}/messages/99999`)).status, 404);

    assert.equal((await fetch(`${base}/api/messages`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(sink.messages(), []);
  });

  it('close rejects pending waiters and frees the ports', async () => {
    const other = await startSmtpSink();
    assert.equal(other.httpPort, undefined);
    const waiting = other.waitFor(() => true, { timeoutMs: 60_000 });
    await other.close();
    await assert.rejects(waiting, /closed/);
  });
});
