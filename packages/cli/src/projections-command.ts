import { status } from '@grpc/grpc-js';
import type { Endpoints } from './addresses.ts';
import { CliError, type Outcome } from './cli-error.ts';
import { isConnected, isServiceError } from './grpc-channel.ts';
import { progressPrinter } from './rebuild-progress.ts';
import { grpcFailure, newClient } from './service-calls.ts';

/** A rebuild replays every order event; it gets far longer than a unary call. */
export const REBUILD_DEADLINE_MS = 10 * 60_000;

/**
 * Streams RebuildProjections' progress to stdout as it arrives and ends with "done"
 * (with --json: one JSON line per report, nothing after them). When the reader of stdout
 * goes away (`| head`), the call is cancelled and nothing more is printed.
 */
export async function rebuildProjections(endpoints: Endpoints, input: { json: boolean }): Promise<Outcome> {
  const { grpc } = endpoints.target('orders');
  const client = await newClient('orders', grpc, endpoints.accessToken());
  const printer = progressPrinter(process.stdout, input.json);
  const stream = client.rebuildProjections({}, { deadline: Date.now() + REBUILD_DEADLINE_MS });
  let outputGone = false;
  // Stays attached: it also keeps a late EPIPE (writing "done") from crashing the process.
  process.stdout.on('error', () => {
    outputGone = true;
    stream.cancel();
  });
  let reports = 0;
  try {
    // The stream ends when the call ends with OK, and throws the call's error (a ServiceError).
    for await (const progress of stream) {
      reports += 1;
      if (!outputGone) printer.update(progress);
    }
  } catch (error) {
    if (outputGone) return { text: '' };
    if (reports > 0 && isServiceError(error) && error.code === status.DEADLINE_EXCEEDED) {
      throw new CliError(
        `the rebuild did not finish within ${REBUILD_DEADLINE_MS / 60_000} minutes (DEADLINE_EXCEEDED)`,
      );
    }
    // Reports came in, so the service was reached even if the connection is gone now.
    throw grpcFailure(error, 'orders', grpc, reports > 0 || isConnected(client), REBUILD_DEADLINE_MS);
  } finally {
    if (!outputGone) printer.finish();
    client.close();
  }
  return { text: input.json ? '' : 'done' };
}
