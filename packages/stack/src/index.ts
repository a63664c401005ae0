export { type FaultMode, type FaultProxy, startFaultProxy } from './fault-proxy.ts';
export { repoRoot } from './launcher/repo-root.ts';
export { type MailSink, type SinkCount, startMailSink } from './mail-counter/mail-sink.ts';
export { type NatsCluster, startNatsCluster } from './nats-cluster.ts';
export {
  generateNatsSeeds,
  type NatsSeeds,
  natsAuthorizationConfig,
  natsConnectOptions,
  natsIdentityEnv,
  natsPublicKey,
} from './nats-identities.ts';
export { natsServerBinary, startNatsServer } from './nats-infra.ts';
export type { NatsProcess, NatsServerOptions } from './nats-server.ts';
export { canConnect, freePort } from './net-utils.ts';
export { formatLogLine } from './pino-line.ts';
export {
  createDatabase,
  databaseUrl,
  dropDatabase,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  ensurePostgres,
  redact,
  startEmbeddedPostgres,
} from './postgres-infra.ts';
export { ensureServiceRoles, localRolePassword, roleUrl, serviceRole } from './postgres-roles.ts';
export { type ServiceProcess, type ServiceSpec, spawnService } from './process-group.ts';
export { serviceRuntime, serviceRuntimeEnv } from './process-tuning.ts';
export { type PrometheusProcess, prometheusBinary, queryPrometheus, startPrometheus } from './prometheus.ts';
export { type ReceivedMail, type SmtpSink, startSmtpSink } from './smtp-sink.ts';
export {
  type ServiceName,
  type ServiceUnderTest,
  type System,
  type SystemAuth,
  type SystemOptions,
  startSystem,
  TEST_ADMIN_EMAIL,
  TEST_ADMIN_PASSWORD,
} from './system.ts';
export { type WaitUntilOptions, waitUntil, within } from './wait-until.ts';
