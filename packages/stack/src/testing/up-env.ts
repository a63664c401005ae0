import { envPrefix, serviceTable } from '../launcher/service-table.ts';
import { freePort } from '../net-utils.ts';

/**
 * The environment of a `conveyor up` (and of the CLI beside it) that shares nothing with a
 * developer's stack: its own state folder (and saved login), database and NATS, a free port for
 * every service and sink, and none of the address overrides the shell may carry.
 */
export async function isolatedUpEnv(options: {
  home: string;
  databaseUrl: string;
  database: string;
  natsUrl: string;
}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONVEYOR_HOME: options.home,
    // The saved login lands here, not in the developer's ~/.local/state.
    XDG_STATE_HOME: options.home,
    DATABASE_URL: options.databaseUrl,
    CONVEYOR_DATABASE: options.database,
    NATS_URL: options.natsUrl,
    SMTP_PORT: String(await freePort()),
    SMTP_WEB_PORT: String(await freePort()),
    WEBHOOK_SINK_PORT: String(await freePort()),
    NO_COLOR: '1',
  };
  for (const name of ['CONVEYOR_TOKEN', 'GATEWAY_URL', 'GATEWAY_PORT', 'SMTP_WEB_URL', 'WEBHOOK_SINK_URL']) {
    delete env[name];
  }
  for (const entry of serviceTable) {
    env[`${envPrefix(entry.name)}_GRPC_PORT`] = String(await freePort());
    env[`${envPrefix(entry.name)}_OPS_PORT`] = String(await freePort());
    delete env[`${envPrefix(entry.name)}_ADDR`];
    delete env[`${envPrefix(entry.name)}_OPS_URL`];
  }
  return env;
}
