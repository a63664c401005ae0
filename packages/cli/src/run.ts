import { loadEndpoints } from './addresses.ts';
import { type Command, parseCommand } from './args.ts';
import { CliError, exitCodes, type Outcome, UsageError } from './cli-error.ts';
import { runConsumers } from './consumer-commands.ts';
import { listDeadLetters, purgeDeadLetters, redriveDeadLetters, showDeadLetter } from './dlq-commands.ts';
import { listNotifications } from './notifications-command.ts';
import { cancelOrder, deliverOrder, payOrder, placeOrder, shipOrder } from './order-commands.ts';
import { listOrders, orderAt, orderHistory, republishEvents, showOrder } from './order-queries.ts';
import { getProduct, listProducts } from './products-command.ts';
import { rebuildProjections } from './projections-command.ts';
import { runSequences } from './sequence-commands.ts';
import { listMail, webhookSink } from './sink-commands.ts';
import { stackStatus } from './status-command.ts';
import { listTimers } from './timer-commands.ts';
import { usage } from './usage.ts';
import {
  bootstrapAdmin,
  changePassword,
  changeRole,
  createUser,
  getUser,
  login,
  logout,
  requestReset,
  resetPassword,
} from './users-command.ts';
import { deleteWebhook, listWebhooks, registerWebhook } from './webhook-commands.ts';

async function execute(command: Command, env: NodeJS.ProcessEnv): Promise<Outcome> {
  if (command.kind === 'help') return { text: usage(command.topic) };
  // Straight to the database, as an operator: no service or login involved.
  if (command.kind === 'users bootstrap-admin') return bootstrapAdmin(command, env);
  const endpoints = await loadEndpoints(env);
  switch (command.kind) {
    case 'users create':
      return createUser(endpoints, command);
    case 'users get':
      return getUser(endpoints, command);
    case 'users grant-role':
    case 'users revoke-role':
      return changeRole(endpoints, { ...command, grant: command.kind === 'users grant-role' });
    case 'login':
      return login(endpoints, command, env);
    case 'logout':
      return logout(endpoints, command, env);
    case 'users change-password':
      return changePassword(endpoints, command, env);
    case 'users request-reset':
      return requestReset(endpoints, command);
    case 'users reset-password':
      return resetPassword(endpoints, command);
    case 'notifications list':
      return listNotifications(endpoints, command);
    case 'products list':
      return listProducts(endpoints, command);
    case 'products get':
      return getProduct(endpoints, command);
    case 'orders place':
      return placeOrder(endpoints, command);
    case 'orders pay':
      return payOrder(endpoints, command);
    case 'orders ship':
      return shipOrder(endpoints, command);
    case 'orders deliver':
      return deliverOrder(endpoints, command);
    case 'orders cancel':
      return cancelOrder(endpoints, command);
    case 'orders show':
      return showOrder(endpoints, command);
    case 'orders list':
      return listOrders(endpoints, command);
    case 'orders history':
      return orderHistory(endpoints, command);
    case 'orders at':
      return orderAt(endpoints, command);
    case 'orders republish':
      return republishEvents(endpoints, { ...command, service: 'orders' });
    case 'users republish':
      return republishEvents(endpoints, { ...command, service: 'users' });
    case 'projections rebuild':
      return rebuildProjections(endpoints, command);
    case 'dlq list':
      return listDeadLetters(endpoints, command);
    case 'dlq show':
      return showDeadLetter(endpoints, command);
    case 'dlq redrive':
      return redriveDeadLetters(endpoints, command);
    case 'dlq purge':
      return purgeDeadLetters(endpoints, command);
    case 'dead-letters list':
    case 'dead-letters show':
    case 'dead-letters redrive':
    case 'dead-letters discard':
      return runSequences(endpoints, command);
    case 'consumers list':
    case 'consumers pause':
    case 'consumers resume':
    case 'consumers reset':
      return runConsumers(endpoints, command);
    case 'timers list':
      return listTimers(endpoints, command);
    case 'webhooks register':
      return registerWebhook(endpoints, command);
    case 'webhooks list':
      return listWebhooks(endpoints, command);
    case 'webhooks delete':
      return deleteWebhook(endpoints, command);
    case 'webhooks sink':
      return webhookSink(endpoints, command);
    case 'mail':
      return listMail(endpoints, command);
    case 'status':
      return stackStatus(endpoints, command);
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
