import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from '@conveyor/stack';
import { verifyWebhookSignature } from '../domain/webhook-signature.ts';

export interface ReceivedWebhook {
  path: string;
  idempotencyKey: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  signature: string;
  body: string;
  /** What the receiver answered. */
  status: number;
  receivedAt: number;
}

export interface WebhookReceiver {
  /** Base URL, http://127.0.0.1:<port> */
  url: string;
  received(): ReceivedWebhook[];
  /** Only the requests answered 2xx (delivered). */
  delivered(): ReceivedWebhook[];
  /** Decides each answer (default 204); called with the request path. */
  respondWith(status: number | ((path: string) => number)): void;
  /** Answers after this long (default 0): keeps requests in flight, like a slow endpoint. */
  setDelay(ms: number): void;
  /** True when the request's signature verifies with `secret`. */
  verify(request: ReceivedWebhook, secret: string): boolean;
  waitFor(predicate: (all: ReceivedWebhook[]) => boolean, timeoutMs: number, message: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that records every webhook POST (bodies up to 1 MiB), on `port`
 * when given (a receiver coming back where webhooks were refused), else on a free one.
 */
export async function startWebhookReceiver(options: { port?: number } = {}): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  let answer: (path: string) => number = () => 204;
  let delayMs = 0;
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const status = answer(req.url ?? '/');
        const header = (name: string) => String(req.headers[name] ?? '');
        requests.push({
          path: req.url ?? '/',
          idempotencyKey: header('idempotency-key'),
          eventId: header('conveyor-event-id'),
          eventType: header('conveyor-event-type'),
          webhookId: header('conveyor-webhook-id'),
          signature: header('conveyor-signature'),
          body,
          status,
          receivedAt: Date.now(),
        });
        if (delayMs > 0) setTimeout(() => res.writeHead(status).end(), delayMs);
        else res.writeHead(status).end();
      },
      () => res.writeHead(413).end(),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => [...requests],
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    respondWith(status) {
      answer = typeof status === 'number' ? () => status : status;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    verify: (request, secret) =>
      verifyWebhookSignature(secret, request.signature, request.body, Math.floor(Date.now() / 1000)),
    waitFor: (predicate, timeoutMs, message) =>
      waitUntil(() => predicate(requests), { timeoutMs, intervalMs: 50, message }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
