import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReceivedMail } from './mail-store.ts';
import { escapeHtml, renderInbox, renderMessage } from './smtp-sink-pages.ts';

const mail = (id: number, subject: string): ReceivedMail => ({
  id,
  messageId: '<m@test>',
  from: 'Eve <eve@test>',
  to: ['x@test'],
  subject,
  text: '<script>alert(1)</script>',
  html: '',
  receivedAt: '2024-01-01T00:00:00.000Z',
  headers: ['Subject: <b>'],
});

describe('smtp sink pages', () => {
  it('escapes HTML', () => {
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>`),
      '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;',
    );
  });

  it('lists newest first with links', () => {
    const html = renderInbox([mail(1, 'first'), mail(2, '<second>')]);
    assert.ok(html.indexOf('href="/messages/2"') < html.indexOf('href="/messages/1"'));
    assert.match(html, /href="\/messages\/2"/);
    assert.match(html, /<th scope="col">Subject<\/th>/);
    assert.match(renderInbox([]), /No messages received yet/);
  });

  it('shows headers and the escaped text body', () => {
    const html = renderMessage(mail(1, 'hi'));
    assert.ok(!html.includes('<script>'));
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    assert.match(html, /Eve &#60;eve@test&#62;/);
    assert.match(html, /Subject: &#60;b&#62;/);
  });
});
