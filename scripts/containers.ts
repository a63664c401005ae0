/**
 * `./bin/conveyor containers`: builds the four images with podman (cached between runs) and runs
 * them as compose wires them against this machine's Postgres, a NATS and an SMTP sink started
 * here; places an order through the gateway container and sees its mail; stops every container
 * with SIGTERM. Prints image sizes, build, start-up and stop times; exits 1 when anything fails.
 * Needs root (debootstrap, podman) and about 3 GB free under /var/lib/containers.
 */
import {
  containerFailures,
  formatContainersReport,
  runContainers,
} from '../test/containers/run-containers.ts';

const root = new URL('..', import.meta.url).pathname;
const watchdog = setTimeout(() => {
  console.error('containers: still running after 20 minutes; giving up');
  process.exit(1);
}, 20 * 60_000);
try {
  const report = await runContainers(root, (line) => console.log(`containers: ${line}`));
  console.log(`\n${formatContainersReport(report)}`);
  const failures = containerFailures(report);
  for (const failure of failures) console.error(`containers: ${failure}`);
  process.exitCode = failures.length > 0 ? 1 : 0;
} catch (error) {
  console.error(`containers: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
}
