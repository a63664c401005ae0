import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageIdOf, SmtpSession } from './smtp-session.ts';

const mail = (id: string, body = 'Hello,\r\n\r\n..a dot-stuffed line\r\nbye') =>
  `From: a@example.com\r\nMessage-ID: <${id}>\r\nSubject: x\r\n\r\n${body}\r\n.\r\n`;

describe('bench SMTP session', () => {
  it('answers a delivery and reads the Message-ID of each mail', () => {
    const s = new SmtpSession();
    assert.match(s.feed(Buffer.from('EHLO client\r\n')).replies[0]!, /^250-.*\r\n250 SMTPUTF8\r\n$/s);
    // Pipelined envelope, then two mails on one connection.
    const envelope = s.feed(Buffer.from('MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'));
    assert.deepEqual(envelope.replies, ['250 OK\r\n', '250 OK\r\n', '354 end with <CRLF>.<CRLF>\r\n']);
    const first = s.feed(Buffer.from(mail('e1.email@conveyor.local')));
    assert.deepEqual(first.mails, ['e1.email@conveyor.local']);
    const second = s.feed(
      Buffer.from(`MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n${mail('e2.email@d')}QUIT\r\n`),
    );
    assert.deepEqual(second.mails, ['e2.email@d']);
    assert.equal(second.close, true);
    assert.equal(second.replies.at(-1), '221 bye\r\n');
  });

  it('finds the end of a message split anywhere, even inside the terminator', () => {
    const s = new SmtpSession();
    s.feed(Buffer.from('HELO c\r\nDATA\r\n'));
    const bytes = Buffer.from(mail('split@d'));
    const mails: string[] = [];
    for (let i = 0; i < bytes.length; i += 3) mails.push(...s.feed(bytes.subarray(i, i + 3)).mails);
    assert.deepEqual(mails, ['split@d']);
  });

  it('accepts an empty message and a mail without Message-ID', () => {
    const s = new SmtpSession();
    assert.deepEqual(s.feed(Buffer.from('DATA\r\n.\r\n')).mails, ['']);
    assert.deepEqual(s.feed(Buffer.from('DATA\r\nSubject: none\r\n\r\nbody\r\n.\r\n')).mails, ['']);
  });

  it('reads only the header block: a Message-ID in the body does not count', () => {
    assert.equal(messageIdOf(Buffer.from('Subject: a\r\n\r\nMessage-ID: <body@x>')), '');
    assert.equal(messageIdOf(Buffer.from('message-id:   <Lower@Case>\r\n\r\n')), 'Lower@Case');
  });

  it('closes a connection that sends an endless line or message', () => {
    const line = new SmtpSession().feed(Buffer.alloc(5000, 'a'));
    assert.equal(line.close, true);
    assert.match(line.replies[0]!, /^500 /);
    const s = new SmtpSession();
    s.feed(Buffer.from('DATA\r\n'));
    const big = s.feed(Buffer.alloc(1024 * 1024 + 10, 'a'));
    assert.equal(big.close, true);
    assert.match(big.replies[0]!, /^552 /);
  });

  it('refuses unknown commands without closing', () => {
    const out = new SmtpSession().feed(Buffer.from('VRFY x\r\n'));
    assert.deepEqual(out, { replies: ['502 command not implemented\r\n'], mails: [], close: false });
  });
});
