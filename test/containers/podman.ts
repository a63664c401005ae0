// Podman as this machine kind runs it (issue 20): detected, not assumed. The sandbox refuses the
// runtime's setrlimit, so when a plain `podman run` fails that way, podman is given cgroupfs and a
// runc wrapper that drops the rlimits from what it runs. These workarounds stay here: the
// Dockerfile, compose file and manifests are what a user with Docker or Kubernetes runs.
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const workDir = '/var/tmp/conveyor-containers';

export interface Podman {
  /** Runs `podman <args>`; resolves stdout, rejects with stderr's tail. */
  (args: readonly string[], options?: { timeoutMs?: number; input?: NodeJS.ReadableStream }): Promise<string>;
  /** What was needed to run containers here, for the report. */
  readonly workarounds: string[];
}

export function podmanCommand(globalArgs: readonly string[], workarounds: string[]): Podman {
  const call = (async (args, options = {}) => {
    const child = spawn('podman', [...globalArgs, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    if (options.input) options.input.pipe(child.stdin);
    else child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    if (code !== 0) {
      throw new Error(`podman ${args.slice(0, 3).join(' ')} failed (${code}): ${err.trim().slice(-1500)}`);
    }
    return out;
  }) as Podman;
  return Object.assign(call, { workarounds });
}

/** Podman, with the rlimit workaround when (and only when) a trial container needs it. */
export async function detectPodman(trialImage: string): Promise<Podman> {
  const plain = podmanCommand([], []);
  try {
    await plain(['run', '--rm', trialImage, 'true'], { timeoutMs: 60_000 });
    return plain;
  } catch (error) {
    if (!/rlimit/i.test((error as Error).message)) throw error;
  }
  const wrapper = await writeRuncWrapper();
  const patched = podmanCommand(
    ['--cgroup-manager=cgroupfs', '--runtime', wrapper],
    ['runtime refuses setrlimit: cgroupfs and a runc wrapper that drops process.rlimits'],
  );
  await patched(['run', '--rm', trialImage, 'true'], { timeoutMs: 60_000 });
  return patched;
}

/** A runc that removes process.rlimits from the bundle (create, run) or process file (exec). */
async function writeRuncWrapper(): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const file = join(workDir, 'runc-no-rlimits');
  const runc = (await run('sh', ['-c', 'command -v runc'])).stdout.trim() || '/usr/sbin/runc';
  await writeFile(
    file,
    `#!${process.execPath}
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');
const args = process.argv.slice(2);
const strip = (file) => {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const target = json.process ?? json;
    if (target.rlimits) {
      delete target.rlimits;
      writeFileSync(file, JSON.stringify(json));
    }
  } catch {}
};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--bundle' || args[i] === '-b') strip(join(args[i + 1], 'config.json'));
  else if (args[i].startsWith('--bundle=')) strip(join(args[i].slice(9), 'config.json'));
  else if (args[i] === '--process' || args[i] === '-p') strip(args[i + 1]);
  else if (args[i].startsWith('--process=')) strip(args[i].slice(10));
}
process.exit(spawnSync(${JSON.stringify(runc)}, args, { stdio: 'inherit' }).status ?? 1);
`,
  );
  await chmod(file, 0o755);
  return file;
}

/** Free space in MB where podman keeps images. */
export async function freeMegabytes(): Promise<number> {
  await mkdir('/var/lib/containers', { recursive: true });
  const { stdout } = await run('df', ['--output=avail', '-BM', '/var/lib/containers']);
  return Number(/(\d+)M/.exec(stdout)?.[1] ?? 0);
}

/** Whether podman, runc and debootstrap are here; installs them with apt when root, else says what is missing. */
export async function ensurePodmanInstalled(log: (line: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const [command, pkg] of [
    ['podman', 'podman'],
    ['runc', 'runc'],
    ['debootstrap', 'debootstrap'],
    ['fuse-overlayfs', 'fuse-overlayfs'],
  ] as const) {
    const found = await run('sh', ['-c', `command -v ${command}`]).then(
      () => true,
      () => false,
    );
    if (!found) missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`containers need ${missing.join(', ')} (Debian packages); install them, or run as root`);
  }
  log(`installing ${missing.join(', ')} (and buildah, uidmap) with apt`);
  await run('apt-get', ['update', '-qq'], { maxBuffer: 64 << 20 });
  await run(
    'apt-get',
    [
      'install',
      '-y',
      '-qq',
      '--no-install-recommends',
      ...missing,
      'buildah',
      'uidmap',
      'containernetworking-plugins',
    ],
    { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 << 20 },
  );
}
