/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParseOptions {
  /**
   * 'throw' (the default): a line that is not a sample is an error, as a test wants.
   * 'skip': such lines, and NaN samples, are left out, as a dashboard summing what it can wants.
   */
  malformed?: 'throw' | 'skip';
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const escaped = /\\(.)/g;

/** A sample value: a float, or +Inf, -Inf, NaN as the format writes them. */
function sampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Parses the text format: comments skipped, label values unescaped (\\n, \\", \\\\). prom-client
 * writes this format but does not read it; this is the one reader (the gateway's dashboard, the
 * tests and the chaos runs).
 */
export function parsePrometheusText(text: string, options: ParseOptions = {}): Sample[] {
  const skip = options.malformed === 'skip';
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (!match) {
      if (skip) continue;
      throw new Error(`not a sample line: ${line}`);
    }
    const value = sampleValue(match[3]!);
    if (skip && Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(labelPair)) {
      labels[key!] = raw!.replace(escaped, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}
