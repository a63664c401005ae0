/** `./bin/conveyor <command>`: talks to a running stack (commands.ts declares them; `conveyor help`). */
import { CliError, exitCodes, UsageError } from './cli-error.ts';
import { parseCommand } from './program.ts';

/** Runs one command line; prints its output or error and returns the exit code. */
async function run(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const outcome = await parseCommand(argv).execute(env);
    // Empty text: the command printed its output as it went (projections rebuild --json).
    if (outcome.text !== '') {
      process.stdout.write(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`);
    }
    return outcome.exitCode ?? exitCodes.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`conveyor: ${error.message}\nRun ./bin/conveyor help for usage.\n`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      process.stderr.write(`conveyor: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`conveyor: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return exitCodes.failure;
  }
}

process.exitCode = await run(process.argv.slice(2));
