import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MailStore } from './mail-store.ts';
import { renderInbox, renderMessage, renderNotFound } from './smtp-sink-pages.ts';

export interface SinkHttpServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(body);
}

function route(store: MailStore, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://sink').pathname;
  const method = req.method ?? 'GET';
  if (path === '/api/messages') {
    if (method === 'GET') send(res, 200, 'application/json', JSON.stringify(store.all()));
    else if (method === 'DELETE') {
      store.clear();
      res.writeHead(204).end();
    } else res.writeHead(405, { allow: 'GET, DELETE' }).end();
    return;
  }
  if (method !== 'GET') {
    res.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  const match = /^\/messages\/(\d+)$/.exec(path);
  const mail = match?.[1] ? store.get(Number(match[1])) : undefined;
  if (path === '/') send(res, 200, 'text/html', renderInbox(store.all()));
  else if (mail) send(res, 200, 'text/html', renderMessage(mail));
  else send(res, 404, 'text/html', renderNotFound());
}

/**
 * Web UI for the sink: GET / (inbox, newest first), GET /messages/:id, GET /api/messages
 * (JSON, oldest first, like SmtpSink.messages()), DELETE /api/messages (clears).
 */
export function startSinkHttp(store: MailStore, port: number, host: string): Promise<SinkHttpServer> {
  const server = createServer((req, res) => route(store, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
