import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts/grpc';
import { freePort } from '@conveyor/stack';
import { envPrefix, serviceTable } from '@conveyor/stack/service-table';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { cli } from './cli-process.ts';

/** A users service stand-in: rejects the email "taken@example.com", knows no ids. */
async function fakeUsers(): Promise<{ address: string; stop(): void }> {
  const server = new Server();
  const implementation: usersV1.UserServiceServer = {
    createUser(call, callback) {
      if (call.request.email === 'taken@example.com') {
        callback({
          code: status.ALREADY_EXISTS,
          details: 'a user with email taken@example.com already exists',
        });
        return;
      }
      const user = { id: 'u-1', email: call.request.email, name: call.request.name, createdAt: new Date() };
      callback(null, { user });
    },
    getUser(call, callback) {
      callback({ code: status.NOT_FOUND, details: `user ${call.request.id} not found` });
    },
  };
  server.addService(usersV1.UserServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

describe('conveyor CLI (child process)', () => {
  let home: string;
  let stopped: Record<string, string>;
  let users: Awaited<ReturnType<typeof fakeUsers>>;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'conveyor-cli-'));
    const port = await freePort();
    // Every address points at a port nobody listens on; CONVEYOR_HOME has no stack.json.
    stopped = { CONVEYOR_HOME: home, SMTP_WEB_URL: `http://127.0.0.1:${port}` };
    for (const entry of serviceTable) {
      stopped[`${envPrefix(entry.name)}_ADDR`] = `127.0.0.1:${port}`;
      stopped[`${envPrefix(entry.name)}_OPS_URL`] = `http://127.0.0.1:${port}`;
    }
    users = await fakeUsers();
  });

  after(async () => {
    users.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('says the service is not reachable and how to start it (exit 1)', async () => {
    const run = await cli(['users', 'create', '--email', 'ada@example.com', '--name', 'Ada'], stopped);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr,
      `conveyor: the users service is not reachable at ${stopped.USERS_ADDR} — start the stack with ./bin/conveyor up\n`,
    );
    assert.equal(run.stdout, '');
    const list = await cli(['notifications', 'list'], stopped);
    assert.equal(list.code, 1);
    assert.match(
      list.stderr,
      /the notifications service is not reachable at 127\.0\.0\.1:\d+ — start the stack/,
    );
  });

  it('reports an unreachable SMTP sink and down services in status (exit 1)', async () => {
    const mail = await cli(['mail'], stopped);
    assert.equal(mail.code, 1);
    assert.match(mail.stderr, /the SMTP sink is not reachable at http:\/\/127\.0\.0\.1:\d+/);
    const status = await cli(['status'], stopped);
    assert.equal(status.code, 1, status.stderr);
    assert.match(status.stdout, /^stack: no .*stack\.json; checking the default addresses$/m);
    assert.match(
      status.stdout,
      /^users +127\.0\.0\.1:\d+ +unreachable +http:\/\/127\.0\.0\.1:\d+ +unreachable$/m,
    );
    const json = await cli(['status', '--json'], stopped);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { up: boolean; stack: unknown; services: { up: boolean }[] };
    assert.equal(parsed.up, false);
    assert.equal(parsed.stack, null);
    assert.ok(parsed.services.length > 0 && parsed.services.every((s) => !s.up));
  });

  it('exits 64 with a usage hint on unknown commands and options', async () => {
    for (const args of [
      ['bogus'],
      ['users', 'create', '--email', 'a@b.c', '--nmae', 'x'],
      ['users', 'get'],
    ]) {
      const run = await cli(args, stopped);
      assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^conveyor: .+\nRun \.\/bin\/conveyor help for usage\.\n$/);
    }
    const help = await cli(['help'], stopped);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /users create --email EMAIL --name NAME/);
  });

  it('prints the created user, as a table or as JSON', async () => {
    const env = { ...stopped, USERS_ADDR: users.address };
    const run = await cli(['users', 'create', '--email', 'ada@example.com', '--name', 'Ada Lovelace'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^created user\nid +u-1\nemail +ada@example\.com\nname +Ada Lovelace\ncreated +\d{4}-/,
    );
    const json = await cli(['users', 'create', '--email', 'ada@example.com', '--name', 'Ada', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const user = JSON.parse(json.stdout) as { id: string; email: string; createdAt: string };
    assert.equal(user.id, 'u-1');
    assert.ok(!Number.isNaN(Date.parse(user.createdAt)));
  });

  it('prints the status name and the message of a rejected request (exit 2)', async () => {
    const env = { ...stopped, USERS_ADDR: users.address };
    const taken = await cli(['users', 'create', '--email', 'taken@example.com', '--name', 'Ada'], env);
    assert.equal(taken.code, 2);
    assert.equal(
      taken.stderr,
      'conveyor: ALREADY_EXISTS: a user with email taken@example.com already exists\n',
    );
    const missing = await cli(['users', 'get', 'nobody'], env);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'conveyor: NOT_FOUND: user nobody not found\n');
  });
});
