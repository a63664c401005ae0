import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the sink answers webhook deliveries. `accept`: 204. `refuse`: 410 Gone, which notifications
 * treats as permanent (dead letter at once). `fail`: 503, transient (retried with backoff until
 * DELIVERY_MAX_ATTEMPTS, then a dead letter).
 */
export type WebhookSinkAnswer = 'accept' | 'refuse' | 'fail';
export const WEBHOOK_SINK_ANSWERS: readonly WebhookSinkAnswer[] = ['accept', 'refuse', 'fail'];
const STATUS: Record<WebhookSinkAnswer, number> = { accept: 204, refuse: 410, fail: 503 };

export interface SinkedWebhook {
  id: number;
  receivedAt: string;
  path: string;
  eventType: string;
  eventId: string;
  webhookId: string;
  /** The status the sink answered. */
  status: number;
  /** The body, cut to 2 KiB. */
  body: string;
}

export interface WebhookSinkState {
  answer: WebhookSinkAnswer;
  /** Oldest first, the newest `capacity` kept. */
  received: SinkedWebhook[];
}

export interface WebhookSink {
  port: number;
  url: string;
  state(): WebhookSinkState;
  setAnswer(answer: WebhookSinkAnswer): void;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const KEPT_BODY = 2048;
const MAX_HEADER = 200;
/** Where the sink is controlled; deliveries go to any other path. */
export const WEBHOOK_SINK_CONTROL = '/_sink';

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers a body over its limit and closes the connection (the rest of the body is not read). */
function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(413, { connection: 'close' });
  res.end(() => req.destroy());
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string {
  return String(req.headers[name] ?? '').slice(0, MAX_HEADER);
}

/**
 * A webhook receiver for development and the README tour (`conveyor up` starts it on
 * 127.0.0.1:9999): it keeps what it receives in memory and answers as told, so a delivery can
 * be made to fail on purpose. GET /_sink returns the answer and what arrived; PUT /_sink with
 * {"answer":"accept"|"refuse"|"fail"} changes the answer. Every other path takes POSTed deliveries.
 */
export async function startWebhookSink(
  options: { port?: number; host?: '127.0.0.1'; capacity?: number } = {},
): Promise<WebhookSink> {
  const host = options.host ?? '127.0.0.1';
  const capacity = options.capacity ?? 500;
  const received: SinkedWebhook[] = [];
  let answer: WebhookSinkAnswer = 'accept';
  let nextId = 1;

  const control = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET') return json(res, 200, { answer, received });
    if (req.method !== 'PUT') {
      res.writeHead(405, { allow: 'GET, PUT' }).end();
      return;
    }
    const body = await readBody(req, 1024);
    if (body === undefined) return tooLarge(req, res);
    let wanted: unknown;
    try {
      wanted = (JSON.parse(body) as { answer?: unknown }).answer;
    } catch {
      wanted = undefined;
    }
    if (!WEBHOOK_SINK_ANSWERS.includes(wanted as WebhookSinkAnswer)) {
      return json(res, 400, { error: `answer must be one of ${WEBHOOK_SINK_ANSWERS.join(', ')}` });
    }
    answer = wanted as WebhookSinkAnswer;
    return json(res, 200, { answer });
  };

  const delivery = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const body = await readBody(req, MAX_BODY);
    if (body === undefined) return tooLarge(req, res);
    const status = STATUS[answer];
    received.push({
      id: nextId++,
      receivedAt: new Date().toISOString(),
      path: (req.url ?? '/').slice(0, MAX_HEADER),
      eventType: header(req, 'conveyor-event-type'),
      eventId: header(req, 'conveyor-event-id'),
      webhookId: header(req, 'conveyor-webhook-id'),
      status,
      body: body.slice(0, KEPT_BODY),
    });
    if (received.length > capacity) received.splice(0, received.length - capacity);
    res.writeHead(status).end();
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sink').pathname;
    const handle = path === WEBHOOK_SINK_CONTROL ? control : delivery;
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  });
  server.keepAliveTimeout = 1000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host}:${port}`,
    state: () => ({ answer, received: [...received] }),
    setAnswer(value) {
      answer = value;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
