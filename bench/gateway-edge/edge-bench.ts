// Loopback benchmark of the gateway's HTTP edge alone, over stub backends (ADR 0034):
//   node bench/gateway-edge/edge-bench.ts [path to an http-server.ts] [requests per case]
// The path defaults to this tree's edge; to compare with another commit, extract its gateway
// (`git archive <commit> services/gateway/src | tar -x -C /tmp/old`) and pass its http-server.ts,
// run both back to back, several rounds interleaved. The server runs in a child process, so its
// CPU time per request is its own.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';

const [
  ,
  ,
  modulePath = new URL('../../services/gateway/src/ports/http/http-server.ts', import.meta.url).pathname,
  nArg = '4000',
] = process.argv;
const n = Number(nArg);
const child = fork(new URL('./edge-server.ts', import.meta.url), [modulePath], {
  stdio: 'inherit',
  // PROF=dir profiles the server (node --cpu-prof).
  execArgv: process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : [],
});
const [{ port, importMs }] = (await once(child, 'message')) as [{ port: number; importMs: number }];
const serverCpu = async () => {
  child.send('cpu');
  const [{ cpu }] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage }];
  return cpu.user + cpu.system;
};
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function one(method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(name: string, method: string, path: string, body?: string) {
  for (let i = 0; i < 500; i++) await one(method, path, body); // warm-up
  const latencies: number[] = [];
  let next = 0;
  const cpu = await serverCpu();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < n) latencies.push(await one(method, path, body));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = ((await serverCpu()) - cpu) / n;
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  console.log(
    `${name.padEnd(26)} ${(n / seconds).toFixed(0).padStart(6)} req/s  p99 ${p99.toFixed(1).padStart(5)} ms  server CPU ${cpuUs.toFixed(0)} µs/req`,
  );
}
console.log(`${modulePath}: import ${importMs.toFixed(0)} ms`);
await run('GET /api/products (stub)', 'GET', '/api/products');
await run('GET /api/nope (404)', 'GET', '/api/nope');
await run(
  'POST /api/signup (400)',
  'POST',
  '/api/signup',
  '{"email":"nope","name":"x","password":"long enough pw"}',
);
agent.destroy();
child.kill('SIGINT');
