import { execFile } from 'node:child_process';
import { environment } from '../process-group.ts';
import { serviceSource } from './service-table.ts';

export interface MigrationResult {
  /** Number of migrations applied, when the script said so. */
  applied: number | undefined;
}

/**
 * Runs `node services/<name>/src/migrate.ts` with `env` (merged over process.env) and the
 * repository as working directory. Rejects with the script's output when it fails.
 */
export function runMigrations(
  name: string,
  env: Record<string, string | undefined>,
  cwd: string,
  signal: AbortSignal,
  timeoutMs = 120_000,
): Promise<MigrationResult> {
  const merged = environment(env);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [serviceSource(name, 'migrate.ts', cwd)],
      { cwd, env: merged, signal, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim() || '(no output)';
          const how = error.killed ? `timed out after ${timeoutMs} ms` : `failed (exit ${error.code})`;
          const indented = output
            .split('\n')
            .map((line) => `  | ${line}`)
            .join('\n');
          reject(new Error(`migrations of ${name} ${how}:\n${indented}`));
          return;
        }
        const match = /(\d+) migration\(s\) applied/.exec(stdout);
        resolve({ applied: match?.[1] === undefined ? undefined : Number(match[1]) });
      },
    );
  });
}
