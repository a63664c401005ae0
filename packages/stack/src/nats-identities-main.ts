// `./bin/conveyor nats-identities [namespace]`: fresh nkeys for a Kubernetes installation
// (ADR 0025), printed as two Secrets to apply: conveyor-nats-identities (the seeds, one key per
// service and the admin, read by the services and the migration step) and
// conveyor-nats-public-keys (what the NATS servers admit, read by the Helm release).
import { natsIdentities } from '@conveyor/contracts';
import { generateNatsSeeds, natsPublicKey } from './nats-identities.ts';

const namespace = process.argv[2] ?? 'conveyor';
if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace) || process.argv.length > 3) {
  process.stderr.write('usage: conveyor nats-identities [namespace]   (a Kubernetes namespace name)\n');
  process.exit(2);
}
const seeds = generateNatsSeeds();
const deployed = natsIdentities.filter((identity) => identity !== 'test');
// Names, namespace and keys are [a-zA-Z0-9-]: nothing to quote.
const secret = (name: string, data: Record<string, string>) =>
  [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    'type: Opaque',
    'stringData:',
    ...Object.entries(data).map(([key, value]) => `  ${key}: ${value}`),
    '',
  ].join('\n');
process.stdout.write(
  [
    '# Apply with kubectl apply -f -; keep no copy: run again (and roll out) to replace every key.\n',
    secret('conveyor-nats-identities', Object.fromEntries(deployed.map((id) => [id, seeds[id]]))),
    secret(
      'conveyor-nats-public-keys',
      Object.fromEntries(deployed.map((id) => [id, natsPublicKey(seeds[id])])),
    ),
  ].join('---\n'),
);
