/**
 * How every Conveyor service process runs, locally (launcher, tests, bench,
 * chaos, rehearsal) and in its image (the Dockerfile sets the same values,
 * which test/deploy checks). Measured under the end-to-end benchmark
 * (docs/performance.md, ADR 0016):
 * - V8's defaults let a busy service's heap grow to ~380 MB of RSS (garbage
 *   waiting for a lazy major GC; the live heap stays under ~40 MB). A 128 MB
 *   old space with 8 MB semi-spaces keeps the peak under 200 MB at the same
 *   throughput. A 128 MB old space alone, with the default semi-spaces,
 *   collapsed throughput, so both flags go together.
 * - glibc's dynamic mmap threshold keeps each freed Argon2 buffer (19 MiB)
 *   in a malloc arena: users grew by ~140 MB at its first sign-ups and never
 *   gave it back. A fixed threshold returns such buffers to the system.
 */
export const serviceRuntime = {
  nodeOptions: '--max-old-space-size=128 --max-semi-space-size=8',
  glibcTunables: 'glibc.malloc.mmap_threshold=131072',
} as const;

/**
 * The environment entries a service process gets on top of its own. An
 * operator's NODE_OPTIONS comes after the defaults, so its flags win (e.g.
 * a larger heap, or `--cpu-prof` for profiling); an operator's
 * GLIBC_TUNABLES replaces the default.
 */
export function serviceRuntimeEnv(inherited: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    NODE_OPTIONS: [serviceRuntime.nodeOptions, inherited.NODE_OPTIONS].filter(Boolean).join(' '),
    GLIBC_TUNABLES: inherited.GLIBC_TUNABLES || serviceRuntime.glibcTunables,
  };
}
