// The gateway's HTTP edge over stub backends, in its own process (started by edge-bench.ts): sends
// its port, then answers each message with its CPU time so far.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';

const modulePath = process.argv[2] ?? '';
const t0 = performance.now();
const mod = await import(modulePath);
const importMs = performance.now() - t0;
const sseMod = await import(modulePath.replace('http-server.ts', 'sse.ts'));
const products = Array.from({ length: 5 }, (_, i) => ({
  sku: `SKU-${i}`,
  name: `Product ${i}`,
  description: 'A product',
  price: { amountMinor: 1000 + i, currency: 'EUR' },
}));
const deps = {
  backends: { orders: { listProducts: 'listProducts' }, call: async () => ({ products, nextPageToken: '' }) },
  limits: { scope: 'replica', take: async () => ({ allowed: true }) },
  snapshot: async () => {
    throw new Error('no');
  },
  streams: new sseMod.SseStreams(10, 2),
  sseIntervalMs: 1000,
  opsIntervalMs: 1000,
  rebuildDeadlineMs: 1000,
  newIdempotencyKey: () => 'k',
  logProblem: (e: unknown) => e,
};
const server = mod.createGatewayServer(deps, {
  corsOrigins: [],
  bodyLimitBytes: 65_536,
  secureCookies: 'auto',
  webRoot: '/tmp',
  logger: pino({ level: 'silent' }),
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
process.send?.({ port: (server.address() as AddressInfo).port, importMs });
process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
process.on('SIGINT', () => process.exit(0));
