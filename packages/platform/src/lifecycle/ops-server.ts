import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.ts';

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The operations port: `/healthz` (the process is alive), `/readyz` (its
 * dependencies answer and it is not shutting down) and `/metrics`
 * (Prometheus text format). Kept off the gRPC port so probes and scrapes
 * never compete with traffic.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  readiness: Readiness;
  registry: Registry;
}): Promise<OpsServer> {
  const { readiness, registry } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'application/json', '{"status":"alive"}\n');
    if (path === '/readyz') {
      readiness.report().then(
        (report) => send(report.ready ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`),
        () => send(503, 'application/json', '{"ready":false}\n'),
      );
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (error: Error) => send(500, 'text/plain', `${error.message}\n`),
      );
      return;
    }
    send(404, 'text/plain', 'not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
