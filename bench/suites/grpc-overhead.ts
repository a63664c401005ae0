import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { protoFiles, protoRoot } from '@conveyor/contracts';
import {
  callUnary,
  createGrpcServer,
  createMetricsRegistry,
  insecure,
  listenGrpc,
  Readiness,
  startTelemetry,
  stopGrpc,
  unary,
} from '@conveyor/platform';
import {
  authenticated,
  type PublicKeySet,
  type UsersAuthApi,
  UsersTokenVerifier,
  verifyLocally,
} from '@conveyor/platform/auth';
import { Downstream } from '@conveyor/platform/resilience';
import {
  type Client,
  Metadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { exportJWK, SignJWT } from 'jose';
import { pino } from 'pino';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import { closedLoop } from '../lib/latency.ts';
import type { Row } from '../lib/report.ts';

const IN_FLIGHT = 16;

/** A PlaceOrder-sized request, echoed back. */
interface Echo {
  userId: string;
  idempotencyKey: string;
  items: { sku: string; quantity: number }[];
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as Echo,
};

/** A unary echo with JSON serialisers: the same bytes on the wire for every system measured. */
const echoDefinition: ServiceDefinition = {
  echo: {
    path: '/conveyor.bench.v1.EchoService/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
    originalName: 'echo',
  },
};

type EchoMethod = ((
  request: Echo,
  metadata: Metadata,
  options: object,
  callback: (error: ServiceError | null, response: Echo) => void,
) => unknown) & { path?: string };
type EchoClient = Client & { echo: EchoMethod };
const EchoClientConstructor = makeGenericClientConstructor(echoDefinition, 'EchoService');

/** A real Ed25519 access token as the users service signs it, and an auth API verifying it locally. */
async function tokenAuthority(): Promise<{ token: string; api: UsersAuthApi; calls: () => number }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' };
  const keys: PublicKeySet = { keys: [jwk], issuer: 'conveyor-users', audience: 'conveyor' };
  const token = await new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench' })
    .setIssuer(keys.issuer)
    .setAudience(keys.audience)
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(privateKey);
  let calls = 0;
  return {
    token,
    api: {
      verifyToken: async (t) => {
        calls++;
        return verifyLocally(t, keys, new Date());
      },
      publicKeys: async () => keys,
      close: () => {},
    },
    calls: () => calls,
  };
}

function request(worker: number, i: number): Echo {
  return {
    userId: '0190f5c2-0000-7000-8000-000000000001',
    idempotencyKey: `w${worker}-${i}`,
    items: [
      { sku: 'MUG-001', quantity: 2 },
      { sku: 'TEE-BLK-M', quantity: 1 },
    ],
  };
}

function checkEcho(sent: Echo, received: Echo): void {
  if (received?.idempotencyKey !== sent.idempotencyKey) throw new Error('echo returned another request');
}

/**
 * The cost of Conveyor's gRPC edge on a unary call, against a bare grpc-js
 * echo measured in the same run: the same echo served through
 * createGrpcServer (request guard, tracing span, rpc metrics, health,
 * reflection) and called through callUnary (deadline, client span,
 * traceparent), then also behind the token check the orders port puts in
 * front of PlaceOrder (`authenticated` with UsersTokenVerifier, verdict
 * cached after the first call). In-process over loopback, closed loop.
 */
export async function grpcOverhead(ctx: BenchContext): Promise<SuiteResult> {
  // As every service does at start (no exporter: ids and propagation, spans not recorded).
  startTelemetry({ serviceName: 'bench', env: {} });
  const logger = pino({ level: 'warn' });
  const rows: Row[] = [];
  const checks: SuiteResult['checks'] = [];
  const perSecond = new Map<string, number>();

  const bare = new Server();
  bare.addService(echoDefinition, {
    echo: (call: { request: Echo }, callback: (e: null, r: Echo) => void) => callback(null, call.request),
  });
  const barePort = await new Promise<number>((resolve, reject) =>
    bare.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );

  const authority = await tokenAuthority();
  const verifier = new UsersTokenVerifier({
    api: authority.api,
    downstream: new Downstream('users', {}, { logger }),
    logger,
  });
  await verifier.verify(authority.token); // the verdict every measured call finds in the cache
  const readiness = new Readiness();
  readiness.watch(60_000);
  const conveyor = createGrpcServer({
    services: [
      {
        definition: echoDefinition,
        implementation: { echo: unary('Echo', logger, async (r: Echo) => r) },
        name: 'conveyor.bench.v1.EchoService',
      },
    ],
    readiness,
    protoRoot,
    protoFiles: protoFiles.orders,
    registry: createMetricsRegistry('bench'),
  });
  const authorised = createGrpcServer({
    services: [
      {
        definition: echoDefinition,
        implementation: {
          echo: unary(
            'Echo',
            logger,
            authenticated<Echo, ServerUnaryCall<Echo, Echo>, Echo>(verifier, async (r) => r),
          ),
        },
        name: 'conveyor.bench.v1.EchoService',
      },
    ],
    readiness,
    protoRoot,
    protoFiles: protoFiles.orders,
    registry: createMetricsRegistry('bench'),
  });
  const conveyorPort = await listenGrpc(conveyor, '127.0.0.1', 0);
  const authorisedPort = await listenGrpc(authorised, '127.0.0.1', 0);

  const clientOf = (port: number) =>
    new EchoClientConstructor(`127.0.0.1:${port}`, insecure()) as unknown as EchoClient;
  const bareClient = clientOf(barePort);
  const conveyorClient = clientOf(conveyorPort);
  const authorisedClient = clientOf(authorisedPort);
  const bearer = new Metadata();
  bearer.set('authorization', `Bearer ${authority.token}`);

  const systems: [string, (worker: number, i: number) => Promise<void>][] = [
    [
      'bare grpc-js echo',
      async (worker, i) => {
        const sent = request(worker, i);
        const received = await new Promise<Echo>((resolve, reject) =>
          bareClient.echo(sent, new Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r))),
        );
        checkEcho(sent, received);
      },
    ],
    [
      'conveyor server + callUnary',
      async (worker, i) => {
        const sent = request(worker, i);
        checkEcho(sent, await callUnary(conveyorClient, conveyorClient.echo, sent, { deadlineMs: 5000 }));
      },
    ],
    [
      'conveyor server + callUnary + token check (cached)',
      async (worker, i) => {
        const sent = request(worker, i);
        checkEcho(
          sent,
          await callUnary(authorisedClient, authorisedClient.echo, sent, {
            deadlineMs: 5000,
            metadata: bearer,
          }),
        );
      },
    ],
  ];

  try {
    // Warm every system first (JIT, connections), then measure them in
    // interleaved rounds and keep each one's median round, so neither the
    // order of the systems nor a burst of load elsewhere on the machine
    // decides the ratio.
    for (const [, op] of systems) await closedLoop(IN_FLIGHT, Math.min(1000, ctx.phaseMs / 4), op);
    const rounds = ctx.smoke ? 1 : 3;
    const results = new Map<string, Awaited<ReturnType<typeof closedLoop>>[]>();
    for (let round = 0; round < rounds; round++) {
      for (const [system, op] of systems) {
        const result = await closedLoop(IN_FLIGHT, ctx.phaseMs / rounds, op);
        results.set(system, [...(results.get(system) ?? []), result]);
      }
    }
    for (const [system, measured] of results) {
      const sorted = [...measured].sort((a, b) => a.perSecond - b.perSecond);
      const result = sorted[Math.floor(sorted.length / 2)]!;
      const errors = measured.reduce((n, r) => n + r.errors, 0);
      const ops = measured.reduce((n, r) => n + r.ops, 0);
      const firstError = measured.find((r) => r.firstError)?.firstError;
      const l = result.latency.summary();
      const spread = sorted.map((r) => r.perSecond.toFixed(0)).join(' / ');
      ctx.log(
        `grpc overhead · ${system} @${IN_FLIGHT}: ${result.perSecond.toFixed(0)}/s (rounds ${spread}), p99 ${l.p99} ms`,
      );
      rows.push({
        group: 'grpc overhead',
        name: system,
        concurrency: IN_FLIGHT,
        perSecond: result.perSecond,
        ...l,
        note: `median of ${rounds} rounds (${spread}/s)${errors ? `; ${errors} errors: ${firstError}` : ''}`,
      });
      perSecond.set(system, result.perSecond);
      checks.push({
        name: `grpc overhead: ${system} answers every call with its own request`,
        ok: errors === 0 && ops > 0,
        detail: `${ops} calls, ${errors} errors${firstError ? `: ${firstError}` : ''}`,
      });
    }

    // The edge is really there: no token is refused, a NUL is refused, the verdict came from the cache.
    const codeOf = async (client: EchoClient, sent: Echo) =>
      callUnary(client, client.echo, sent, { deadlineMs: 5000 }).then(
        () => status.OK,
        (e: ServiceError) => e.code,
      );
    const noToken = await codeOf(authorisedClient, request(0, 0));
    const nul = await codeOf(conveyorClient, { ...request(0, 0), idempotencyKey: 'a\u0000b' });
    checks.push({
      name: 'grpc overhead: the Conveyor edge guards and authenticates',
      ok: noToken === status.UNAUTHENTICATED && nul === status.INVALID_ARGUMENT && authority.calls() === 1,
      detail: `no token → ${status[noToken]}, NUL → ${status[nul]}, users verifications ${authority.calls()} (rest cached)`,
    });
  } finally {
    for (const client of [bareClient, conveyorClient, authorisedClient]) client.close();
    readiness.stopWatching();
    verifier.stop();
    await Promise.all([stopGrpc(conveyor, 2000), stopGrpc(authorised, 2000)]);
    bare.forceShutdown();
  }

  const baseline = perSecond.get('bare grpc-js echo') || 1;
  const ratios = [...perSecond]
    .filter(([system]) => system !== 'bare grpc-js echo')
    .map(([system, value]) => ({ name: `${system} vs bare grpc-js @${IN_FLIGHT}`, value: value / baseline }));
  return { rows, ratios, checks };
}
