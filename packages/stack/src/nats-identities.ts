// NATS identities for the servers the stack starts (ADR 0025): an nkey per service, the admin and
// the test identity, with the permissions the contracts declare.
import { writeFile } from 'node:fs/promises';
import { type NatsIdentity, natsIdentities, natsPermissions } from '@conveyor/contracts';
import { natsCredentials } from '@conveyor/platform';
import { nkeys } from '@nats-io/nats-core';
import type { ConnectionOptions } from '@nats-io/transport-node';

/** The nkey seed of every identity (secrets: they stay in memory and the services' environment). */
export type NatsSeeds = Readonly<Record<NatsIdentity, string>>;

const text = new TextDecoder();
const bytes = new TextEncoder();

/** Fresh nkeys for every identity. */
export function generateNatsSeeds(): NatsSeeds {
  return Object.fromEntries(
    natsIdentities.map((identity) => [identity, text.decode(nkeys.createUser().getSeed())]),
  ) as Record<NatsIdentity, string>;
}

export function natsPublicKey(seed: string): string {
  return nkeys.fromSeed(bytes.encode(seed)).getPublicKey();
}

/**
 * nats-server's `authorization` block: each identity by its public key (the server never sees a
 * seed) with its publish and subscribe allow-lists. Subjects are quoted: `$` starts a variable.
 */
export function natsAuthorizationConfig(
  seeds: Partial<Record<NatsIdentity, string>>,
  admitted: readonly NatsIdentity[] = natsIdentities,
): string {
  const list = (subjects: readonly string[]) => `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]`;
  const users = admitted.map((identity) => {
    const p = natsPermissions[identity];
    const seed = seeds[identity];
    if (!seed) throw new Error(`no nkey seed for the NATS identity ${identity}`);
    return [
      `    # ${identity}`,
      `    { nkey: ${natsPublicKey(seed)}, permissions: {`,
      `      publish: { allow: ${list(p.publish)} },`,
      `      subscribe: { allow: ${list(p.subscribe)} } } }`,
    ].join('\n');
  });
  return `authorization {\n  users: [\n${users.join(',\n')}\n  ]\n}\n`;
}

/** Writes the authorization block to `path` (only the owner can read it) for `nats-server -c`. */
export async function writeNatsAuthorization(path: string, seeds: NatsSeeds): Promise<string> {
  await writeFile(path, natsAuthorizationConfig(seeds), { mode: 0o600 });
  return path;
}

/** Options for `connect()` as one identity of a server the stack started (none without seeds). */
export function natsConnectOptions(
  url: string,
  seeds: NatsSeeds | undefined,
  identity: NatsIdentity = 'test',
): ConnectionOptions {
  return {
    servers: url.split(',').map((s) => s.trim()),
    ...(seeds ? natsCredentials({ name: identity, seed: seeds[identity] }) : {}),
  };
}

/** The environment a service gets for its own identity and, where it makes streams, the admin's. */
export function natsIdentityEnv(
  seeds: NatsSeeds | undefined,
  identity: NatsIdentity,
  withAdmin: boolean,
): Record<string, string> {
  if (!seeds) return {};
  return {
    NATS_NKEY_SEED: seeds[identity],
    ...(withAdmin ? { NATS_ADMIN_NKEY_SEED: seeds.admin } : {}),
  };
}
