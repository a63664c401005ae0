/** `./bin/conveyor <command>`: talks to a running stack (see usage.ts or `conveyor help`). */
import { run } from './run.ts';

process.exitCode = await run(process.argv.slice(2));
