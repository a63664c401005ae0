import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/**
 * Serves the console from `root`: known file types only, no directory
 * escapes; any other path under / is the single-page app's index.html.
 */
export function staticFiles(root: string) {
  const base = normalize(root + sep);
  return async function serve(path: string, res: ServerResponse): Promise<boolean> {
    let relative: string;
    try {
      relative = path === '/' ? 'index.html' : decodeURIComponent(path).replace(/^\/+/, '');
    } catch {
      return false; // malformed percent-encoding: not a file of ours
    }
    const type = TYPES[extname(relative)];
    const file = normalize(join(base, relative));
    if (!file.startsWith(base)) return false;
    if (type === undefined) return sendFile(join(base, 'index.html'), TYPES['.html'] as string, res);
    return sendFile(file, type, res);
  };
}

async function sendFile(file: string, type: string, res: ServerResponse): Promise<boolean> {
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', 'content-length': body.length });
    res.end(body);
    return true;
  } catch {
    return false;
  }
}
