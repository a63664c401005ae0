import type { Row } from './report.ts';

/** What every suite gets: where things run, how long to run, where to put results. */
export interface BenchContext {
  /** Admin URL of the Postgres server (databases are created per suite). */
  adminUrl: string;
  smoke: boolean;
  /** Milliseconds each measured phase runs. */
  phaseMs: number;
  concurrencies: number[];
  log: (line: string) => void;
}

export interface SuiteResult {
  rows: Row[];
  ratios: { name: string; value: number; target?: number }[];
  checks: { name: string; ok: boolean; detail: string; target?: boolean }[];
}
