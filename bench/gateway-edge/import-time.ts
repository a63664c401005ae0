// Cold import of the gateway's HTTP layer alone (ADR 0034), its shared dependencies loaded first:
//   node bench/gateway-edge/import-time.ts [path to an http-server.ts]
// Prints milliseconds; run it many times, interleaved with the edge it is compared with.
await import('@conveyor/platform');
await import('@grpc/grpc-js');
await import('zod');
await import('pino');
await import('@conveyor/contracts');
const modulePath =
  process.argv[2] ??
  new URL('../../services/gateway/src/ports/http/http-server.ts', import.meta.url).pathname;
const started = performance.now();
await import(modulePath);
console.log((performance.now() - started).toFixed(0));
