import type { Row } from './report.ts';

/** What every suite gets: where things run, how long to run, where to put results. */
export interface BenchContext {
  /** Admin URL of the Postgres server (databases are created per suite). */
  adminUrl: string;
  /** The server's processes now (its postmaster's tree when the bench started it). */
  postgresPids: () => number[];
  /** pg_stat_statements is loaded: statements per order can be counted. */
  statementStats: boolean;
  smoke: boolean;
  /** `--rate N`: one run of 30 s at N orders/s instead of the search (for profiling). */
  fixedRate: number | undefined;
  /** Milliseconds each measured phase runs. */
  phaseMs: number;
  concurrencies: number[];
  log: (line: string) => void;
}

export interface SuiteResult {
  rows: Row[];
  ratios: { name: string; value: number; target?: number; atMost?: boolean }[];
  checks: { name: string; ok: boolean; detail: string; target?: boolean }[];
  /** Figures other suites' ratios use, keyed `<pipeline>.<figure>` (see measure-pipeline.ts). */
  figures?: Record<string, number>;
}
