// The base image, made here (no image registry is reachable from this machine kind): a Debian
// bookworm rootfs from debootstrap (minbase), this Node 24 binary, npm, the CA bundle the host
// trusts (registries are reached through a proxy with its own CA) and a `node` user with uid 1000,
// imported under a local name and passed to the Dockerfile as NODE_IMAGE.
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Podman } from './podman.ts';

const run = promisify(execFile);

export const BASE_IMAGE = 'localhost/conveyor-node:24-bookworm';

export async function baseImageExists(
  podman: Podman | ((args: string[]) => Promise<string>),
): Promise<boolean> {
  return podman(['image', 'exists', BASE_IMAGE]).then(
    () => true,
    () => false,
  );
}

/** Builds and imports the base image; about 40 s and 250 MB. */
export async function buildBaseImage(
  podman: (args: readonly string[], options?: { input?: NodeJS.ReadableStream }) => Promise<string>,
  log: (line: string) => void,
): Promise<void> {
  const dir = await mkdtemp('/var/tmp/conveyor-base-');
  const root = join(dir, 'rootfs');
  try {
    log('base image: debootstrap --variant=minbase bookworm');
    await run('debootstrap', ['--variant=minbase', 'bookworm', root, 'http://deb.debian.org/debian'], {
      maxBuffer: 64 << 20,
    });
    log(`base image: Node ${process.version}, npm, the host's CA bundle, user node (1000)`);
    await copyFile(process.execPath, join(root, 'usr/local/bin/node'));
    await run('chmod', ['755', join(root, 'usr/local/bin/node')]);
    const npmVersion = (await run('npm', ['--version'])).stdout.trim();
    await run('npm', ['pack', `npm@${npmVersion}`, '--silent', '--pack-destination', dir], {
      maxBuffer: 16 << 20,
    });
    const npmDir = join(root, 'usr/local/lib/node_modules/npm');
    await mkdir(npmDir, { recursive: true });
    await run('tar', ['-xzf', join(dir, `npm-${npmVersion}.tgz`), '-C', npmDir, '--strip-components=1']);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
    await mkdir(join(root, 'etc/ssl/certs'), { recursive: true });
    await copyFile('/etc/ssl/certs/ca-certificates.crt', join(root, 'etc/ssl/certs/ca-certificates.crt'));
    await run('chroot', [
      root,
      'sh',
      '-c',
      'groupadd -g 1000 node && useradd -u 1000 -g 1000 -m -s /bin/sh node',
    ]);
    await run('sh', [
      '-c',
      `rm -rf ${root}/var/cache/apt/archives/*.deb ${root}/var/lib/apt/lists/* ${root}/usr/share/doc/* ${root}/usr/share/man/*`,
    ]);
    log(`base image: importing as ${BASE_IMAGE}`);
    // Streamed into podman: the rootfs (about 250 MB) is never held in memory.
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await podman(
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
        '--change',
        'CMD ["node"]',
        '-',
        BASE_IMAGE,
      ],
      { input: tar.stdout },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
