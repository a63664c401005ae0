import type { EdgeLimits } from '../../adapters/edge-limits.ts';
import type { GrpcBackends } from '../../adapters/grpc-backends.ts';
import type { OpsSnapshot } from '../../app/ops-snapshot.ts';
import type { SseStreams } from './sse.ts';

/** What the HTTP routes need; service.ts builds it. */
export interface GatewayDeps {
  backends: GrpcBackends;
  /** Sign-up and log-in limits per client address and per account (ADR 0023). */
  limits: EdgeLimits;
  snapshot(): Promise<OpsSnapshot>;
  streams: SseStreams;
  sseIntervalMs: number;
  opsIntervalMs: number;
  rebuildDeadlineMs: number;
  newIdempotencyKey(): string;
  logProblem(error: unknown): unknown;
}
