import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqlFilter } from './sql-filter.ts';

describe('SqlFilter', () => {
  it('numbers the placeholders of each condition, then of the parameters after them', () => {
    const after = new Date('2026-12-01T00:00:00Z');
    const filter = new SqlFilter().and('user_id = ?', 'u-1').and('(created_at, id) < (?, ?)', after, 'n-9');
    const limit = filter.param(20);
    assert.equal(filter.where, 'where user_id = $1 and (created_at, id) < ($2, $3)');
    assert.equal(limit, '$4');
    assert.deepEqual(filter.params, ['u-1', after, 'n-9', 20]);
  });

  it('is empty without conditions, and keeps a condition without placeholders as written', () => {
    const filter = new SqlFilter();
    assert.equal(filter.where, '');
    assert.equal(filter.and("channel = 'email'").where, "where channel = 'email'");
    assert.deepEqual(filter.params, []);
  });

  it('refuses a condition whose placeholders and values do not match', () => {
    assert.throws(() => new SqlFilter().and('a = ? and b = ?', 1), /2 placeholders but 1 values/);
  });
});
