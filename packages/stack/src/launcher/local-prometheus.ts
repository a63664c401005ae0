import { join } from 'node:path';
import { type PrometheusProcess, startPrometheus } from '../prometheus.ts';
import { portFromEnv } from './ports.ts';
import type { Progress } from './progress.ts';
import type { Teardown } from './teardown.ts';

/**
 * `conveyor up --prometheus`: a real Prometheus (Debian package) scraping
 * every service's ops port every 2 s, with the repository's alert rules
 * loaded; port PROMETHEUS_PORT (default 9090); data in a temporary folder
 * removed on stop.
 */
export async function startLocalPrometheus(options: {
  services: readonly { name: string; opsUrl: string }[];
  repoRoot: string;
  progress: Progress;
  teardown: Teardown;
  env?: NodeJS.ProcessEnv;
}): Promise<PrometheusProcess> {
  const port = portFromEnv(options.env ?? process.env, 'PROMETHEUS_PORT', 9090);
  const prometheus = await startPrometheus({
    port,
    targets: options.services.map((s) => ({ service: s.name, address: new URL(s.opsUrl).host })),
    ruleFiles: [join(options.repoRoot, 'deploy/compose/alert-rules.yml')],
  });
  options.teardown.add('prometheus', async () => {
    await prometheus.stop();
    return `stopped prometheus (pid ${prometheus.pid})`;
  });
  options.progress.step('prometheus', `scraping ${options.services.length} services at ${prometheus.url}`);
  return prometheus;
}
