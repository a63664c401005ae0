import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from './prometheus-text.ts';

const text = [
  '# HELP rpc_server_requests_total Calls',
  '# TYPE rpc_server_requests_total counter',
  'rpc_server_requests_total{rpc_method="GetUser",rpc_grpc_status_code="0"} 12',
  'conveyor_note{text="a \\"quoted\\"\\nline \\\\ end"} 1 1700000000000',
  'rpc_server_duration_seconds_bucket{le="+Inf"} +Inf',
  'up 1',
  '',
].join('\n');

describe('parsePrometheusText', () => {
  it('reads samples with their labels unescaped, timestamps and +Inf', () => {
    assert.deepEqual(parsePrometheusText(text), [
      {
        name: 'rpc_server_requests_total',
        labels: { rpc_method: 'GetUser', rpc_grpc_status_code: '0' },
        value: 12,
      },
      { name: 'conveyor_note', labels: { text: 'a "quoted"\nline \\ end' }, value: 1 },
      { name: 'rpc_server_duration_seconds_bucket', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
      { name: 'up', labels: {}, value: 1 },
    ]);
  });

  it('throws on a line that is not a sample, or skips it and NaN samples when asked', () => {
    const bad = 'up 1\nnot a sample line\nodd NaN\n';
    assert.throws(() => parsePrometheusText(bad), /not a sample line: not a sample line/);
    assert.deepEqual(parsePrometheusText(bad, { malformed: 'skip' }), [{ name: 'up', labels: {}, value: 1 }]);
  });
});
