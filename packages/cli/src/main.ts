/** `./bin/conveyor <command>`: talks to a running stack (commands.ts declares them; `conveyor help`). */
import { run } from './run.ts';

process.exitCode = await run(process.argv.slice(2));
