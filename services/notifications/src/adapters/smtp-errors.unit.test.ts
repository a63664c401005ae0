import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutAddresses } from '@conveyor/platform';
import { classifySmtpError } from './smtp-mailer.ts';

describe('SMTP errors as stored and logged', () => {
  it('keeps the reply and drops every address in it (issue 22: nothing outlives an erasure)', () => {
    const failed = classifySmtpError(
      Object.assign(
        new Error(
          "Can't send mail - all recipients were rejected: 550 5.1.1 <Ada.L@Example.com>: Recipient address rejected",
        ),
        {
          code: 'EENVELOPE',
          responseCode: 550,
        },
      ),
    );
    assert.equal(failed.permanent, true);
    assert.equal(
      failed.message,
      "smtp: Can't send mail - all recipients were rejected: 550 5.1.1 <[address]>: Recipient address rejected",
    );
    assert.equal(
      withoutAddresses('to bob+tag@mail.example.org, "a b"@y.z (ok)'),
      'to [address], [address] (ok)',
    );
  });
});
