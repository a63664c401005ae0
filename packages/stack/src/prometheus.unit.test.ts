import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { prometheusConfig } from './prometheus.ts';

describe('prometheusConfig', () => {
  it('scrapes each service with its service label, itself, and loads the rule files', () => {
    const config = parse(
      prometheusConfig({
        targets: [
          { service: 'users', address: '127.0.0.1:9101' },
          { service: 'orders', address: '127.0.0.1:9102' },
        ],
        scrapeIntervalS: 2,
        ruleFiles: ['/repo/deploy/compose/alert-rules.yml'],
        selfAddress: '127.0.0.1:9090',
      }),
    );
    assert.equal(config.global.scrape_interval, '2s');
    assert.deepEqual(config.rule_files, ['/repo/deploy/compose/alert-rules.yml']);
    const [conveyor, self] = config.scrape_configs;
    assert.equal(conveyor.job_name, 'conveyor');
    assert.equal(conveyor.honor_labels, true);
    assert.deepEqual(conveyor.static_configs, [
      { targets: ['127.0.0.1:9101'], labels: { service: 'users' } },
      { targets: ['127.0.0.1:9102'], labels: { service: 'orders' } },
    ]);
    assert.deepEqual(self.static_configs, [{ targets: ['127.0.0.1:9090'] }]);
  });
});
