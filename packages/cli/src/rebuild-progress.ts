import type * as ordersV1 from '@conveyor/contracts/grpc/orders';
import { formatProgress } from './order-format.ts';

/** Where progress goes: process.stdout, or a stand-in in tests. */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressPrinter {
  update(progress: ordersV1.RebuildProjectionsResponse): void;
  /** Ends the last line (and prints what was held back); call once, also after a failure. */
  finish(): void;
}

/** On a terminal: one line per phase, rewritten in place with a bar. */
function terminalPrinter(out: ProgressOutput): ProgressPrinter {
  let phase: string | undefined;
  return {
    update(progress) {
      if (progress.phase === 'done') return;
      if (phase !== undefined && progress.phase !== phase) out.write('\n');
      phase = progress.phase;
      out.write(`\r\x1b[2K${formatProgress(progress, true)}`);
    },
    finish() {
      if (phase !== undefined) out.write('\n');
      phase = undefined;
    },
  };
}

/** 0-10 (tenths of the way), or -1 while the total is unknown. */
function tenth(progress: ordersV1.RebuildProjectionsResponse): number {
  return progress.total > 0 ? Math.min(10, Math.floor((progress.processed * 10) / progress.total)) : -1;
}

/**
 * Elsewhere (a pipe, a log): plain lines, at most one per tenth of each phase; the last
 * report of a phase is printed before the next phase starts.
 */
function linePrinter(out: ProgressOutput): ProgressPrinter {
  let printed: { phase: string; tenth: number } | undefined;
  let held: ordersV1.RebuildProjectionsResponse | undefined;
  const print = (progress: ordersV1.RebuildProjectionsResponse): void => {
    out.write(`${formatProgress(progress)}\n`);
    printed = { phase: progress.phase, tenth: tenth(progress) };
    held = undefined;
  };
  return {
    update(progress) {
      if (progress.phase === 'done') return;
      if (printed?.phase === progress.phase && printed.tenth === tenth(progress)) {
        held = progress;
        return;
      }
      if (held && held.phase !== progress.phase) print(held);
      print(progress);
    },
    finish() {
      if (held) print(held);
    },
  };
}

/** --json: every report as one JSON line, as it arrives. */
function jsonPrinter(out: ProgressOutput): ProgressPrinter {
  return {
    update(progress) {
      // Every field, zeros included (toJSON would leave them out).
      const { phase, processed, total } = progress;
      out.write(`${JSON.stringify({ phase, processed, total })}\n`);
    },
    finish() {},
  };
}

export function progressPrinter(out: ProgressOutput, json: boolean): ProgressPrinter {
  if (json) return jsonPrinter(out);
  return out.isTTY ? terminalPrinter(out) : linePrinter(out);
}
