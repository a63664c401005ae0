import { loadEndpoints } from './addresses.ts';
import { type Command, parseCommand } from './args.ts';
import { CliError, exitCodes, type Outcome, UsageError } from './cli-error.ts';

// Each command's module (and gRPC, the generated clients, the sinks' HTTP) is loaded only when that
// command runs: `conveyor status` does not pay for the orders client (README: Operations, CLI timing).
const users = () => import('./users-command.ts');
const orderCommands = () => import('./order-commands.ts');
const orderQueries = () => import('./order-queries.ts');
const products = () => import('./products-command.ts');
const dlq = () => import('./dlq-commands.ts');
const webhooks = () => import('./webhook-commands.ts');
const sinks = () => import('./sink-commands.ts');

async function execute(command: Command, env: NodeJS.ProcessEnv): Promise<Outcome> {
  if (command.kind === 'help') return { text: (await import('./usage.ts')).usage(command.topic) };
  // Straight to the database, as an operator: no service or login involved.
  if (command.kind === 'users bootstrap-admin') return (await users()).bootstrapAdmin(command, env);
  const endpoints = await loadEndpoints(env);
  switch (command.kind) {
    case 'users create':
      return (await users()).createUser(endpoints, command);
    case 'users get':
      return (await users()).getUser(endpoints, command);
    case 'users grant-role':
    case 'users revoke-role':
      return (await users()).changeRole(endpoints, {
        ...command,
        grant: command.kind === 'users grant-role',
      });
    case 'login':
      return (await users()).login(endpoints, command, env);
    case 'logout':
      return (await users()).logout(endpoints, command, env);
    case 'users change-password':
      return (await users()).changePassword(endpoints, command, env);
    case 'users request-reset':
      return (await users()).requestReset(endpoints, command);
    case 'users reset-password':
      return (await users()).resetPassword(endpoints, command);
    case 'notifications list':
      return (await import('./notifications-command.ts')).listNotifications(endpoints, command);
    case 'products list':
      return (await products()).listProducts(endpoints, command);
    case 'products get':
      return (await products()).getProduct(endpoints, command);
    case 'orders place':
      return (await orderCommands()).placeOrder(endpoints, command);
    case 'orders pay':
      return (await orderCommands()).payOrder(endpoints, command);
    case 'orders ship':
      return (await orderCommands()).shipOrder(endpoints, command);
    case 'orders deliver':
      return (await orderCommands()).deliverOrder(endpoints, command);
    case 'orders cancel':
      return (await orderCommands()).cancelOrder(endpoints, command);
    case 'orders show':
      return (await orderQueries()).showOrder(endpoints, command);
    case 'orders list':
      return (await orderQueries()).listOrders(endpoints, command);
    case 'orders history':
      return (await orderQueries()).orderHistory(endpoints, command);
    case 'orders at':
      return (await orderQueries()).orderAt(endpoints, command);
    case 'orders republish':
      return (await orderQueries()).republishEvents(endpoints, { ...command, service: 'orders' });
    case 'users republish':
      return (await orderQueries()).republishEvents(endpoints, { ...command, service: 'users' });
    case 'projections rebuild':
      return (await import('./projections-command.ts')).rebuildProjections(endpoints, command);
    case 'dlq list':
      return (await dlq()).listDeadLetters(endpoints, command);
    case 'dlq show':
      return (await dlq()).showDeadLetter(endpoints, command);
    case 'dlq redrive':
      return (await dlq()).redriveDeadLetters(endpoints, command);
    case 'dlq purge':
      return (await dlq()).purgeDeadLetters(endpoints, command);
    case 'dead-letters list':
    case 'dead-letters show':
    case 'dead-letters redrive':
    case 'dead-letters discard':
      return (await import('./sequence-commands.ts')).runSequences(endpoints, command);
    case 'consumers list':
    case 'consumers pause':
    case 'consumers resume':
    case 'consumers reset':
      return (await import('./consumer-commands.ts')).runConsumers(endpoints, command);
    case 'timers list':
      return (await import('./timer-commands.ts')).listTimers(endpoints, command);
    case 'webhooks register':
      return (await webhooks()).registerWebhook(endpoints, command);
    case 'webhooks list':
      return (await webhooks()).listWebhooks(endpoints, command);
    case 'webhooks delete':
      return (await webhooks()).deleteWebhook(endpoints, command);
    case 'webhooks sink':
      return (await sinks()).webhookSink(endpoints, command);
    case 'mail':
      return (await sinks()).listMail(endpoints, command);
    case 'status':
      return (await import('./status-command.ts')).stackStatus(endpoints, command);
  }
}

/** Runs one command line; prints its output or error and returns the exit code. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const outcome = await execute(parseCommand(argv), env);
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
