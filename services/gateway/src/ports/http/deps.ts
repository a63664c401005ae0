import type { GrpcBackends } from '../../adapters/grpc-backends.ts';
import type { OpsSnapshot } from '../../app/ops-snapshot.ts';
import type { SseStreams } from './sse.ts';

/** What the HTTP routes need; service.ts builds it. */
export interface GatewayDeps {
  backends: GrpcBackends;
  snapshot(): Promise<OpsSnapshot>;
  streams: SseStreams;
  sseIntervalMs: number;
  opsIntervalMs: number;
  rebuildDeadlineMs: number;
  newIdempotencyKey(): string;
  logProblem(error: unknown): unknown;
}
