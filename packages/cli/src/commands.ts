import type { Command } from 'commander';
import { UsageError } from './cli-error.ts';
import { declareOperations } from './operations-program.ts';
import { limitOption } from './option-values.ts';
import { declareOrders, declareRepublish } from './orders-program.ts';
import { group, type Leaf, system } from './program.ts';

const usersModule = () => import('./users-command.ts');
const users = system(usersModule);
const products = system(() => import('./order-queries.ts'));
const sinks = system(() => import('./sink-commands.ts'));
const status = system(() => import('./status-command.ts'));
const notified = system(() => import('./notification-commands.ts'));

type BootstrapAdmin = Parameters<Awaited<ReturnType<typeof usersModule>>['bootstrapAdmin']>[0];

const epilogue = `
Examples:
  ./bin/conveyor up
  ./bin/conveyor users create --email ada@example.com --name "Ada Lovelace" --password 'correct horse battery'
  ./bin/conveyor login --email ada@example.com --password 'correct horse battery'
  ./bin/conveyor products list
  ./bin/conveyor orders place --item MUG-001:2 --item STICKER-PACK:1
  ./bin/conveyor orders pay ORDER_ID
  ./bin/conveyor orders history ORDER_ID
  ./bin/conveyor projections rebuild
  ./bin/conveyor mail
  ./bin/conveyor notifications list --limit 10
  ./bin/conveyor webhooks register --global --url https://hooks.example.com/conveyor
  ./bin/conveyor dlq list --reason poison
  ./bin/conveyor dlq redrive --subject order.paid
  ./bin/conveyor dead-letters list
  ./bin/conveyor consumers pause notifications/ORDERS/notifications --reason "mail outage"
  ./bin/conveyor timers list
  ./bin/conveyor webhooks sink --refuse
  ./bin/conveyor status --json

Addresses come from .conveyor/stack.json (written by up), else the defaults; override
them with USERS_ADDR, ORDERS_ADDR, NOTIFICATIONS_ADDR (host:port), GATEWAY_URL, <SERVICE>_OPS_URL,
SMTP_WEB_URL and WEBHOOK_SINK_URL.
Every command but users create, login and products needs a login (ship, deliver, rebuild,
republish, webhooks, dlq, dead-letters, consumers, timers and roles need an admin; signing up never makes one: up makes
admin@conveyor.local, an operator runs users bootstrap-admin, admins run users grant-role).
Exit codes: 0 ok, 1 failed or unreachable, 2 rejected by the service (e.g. an order not in the
right status), 64 bad usage.`;

/** Every command of the CLI, each declared once: its arguments, options (checked as parsed) and help. */
export function declareCommands(program: Command, leaf: Leaf): void {
  for (const [name, description] of [
    ['up', 'run the whole system locally (Ctrl-C stops it)'],
    ['test [unit|int|e2e|FILE...]', 'run the tests'],
  ] as const) {
    const command = program.command(name).description(description).allowUnknownOption();
    command.action(() => {
      throw new UsageError(`${command.name()} runs through the launcher: ./bin/conveyor ${command.name()}`);
    });
  }
  declareUsers(program, leaf);
  declareReading(program, leaf);
  declareOrders(program, leaf);
  declareOperations(program, leaf);
  leaf(program, 'mail', 'mails caught by the local SMTP sink, newest first', sinks('listMail'));
  leaf(program, 'status', 'health and readiness of every service and the gateway', status('stackStatus'));
  program
    .command('help [COMMAND...]')
    .description('this help, or a command’s')
    .action((words: string[]) => {
      let command = program;
      for (const word of words) {
        const next = command.commands.find((c) => c.name() === word);
        if (!next) throw new UsageError(`no help for ${JSON.stringify(words.join(' ').slice(0, 60))}`);
        command = next;
      }
      command.help();
    });
  program.addHelpText('after', epilogue);
}

/** Signing in and out, accounts, passwords and roles. */
function declareUsers(program: Command, leaf: Leaf): void {
  leaf(
    program,
    'login',
    'sign in; saves the access token (15 min) to $XDG_STATE_HOME/conveyor/token (~/.local/state/...) that every other command sends; CONVEYOR_TOKEN overrides',
    users('login'),
  )
    .requiredOption('--email <EMAIL>')
    .requiredOption('--password <PASSWORD>');
  leaf(
    program,
    'logout',
    'end every session of the logged-in user (their tokens are refused from now on) and delete the saved token',
    users('logout'),
  );
  const user = group(program, 'users', 'sign up, accounts, passwords and roles');
  leaf(user, 'create', 'sign a user up (password: 12-128 characters)', users('createUser'))
    .requiredOption('--email <EMAIL>')
    .requiredOption('--name <NAME>')
    .requiredOption('--password <PASSWORD>');
  leaf(user, 'get <ID>', 'show one user (yourself, or anyone as admin)', users('getUser'));
  leaf(user, 'change-password', 'change your password; other sessions end', users('changePassword'))
    .requiredOption('--current <PASSWORD>')
    .requiredOption('--new <PASSWORD>');
  leaf(
    user,
    'request-reset',
    'mail a one-time code to reset a forgotten password',
    users('requestReset'),
  ).requiredOption('--email <EMAIL>');
  leaf(user, 'reset-password', 'set a new password with the mailed code', users('resetPassword'))
    .requiredOption('--token <CODE>')
    .requiredOption('--password <PASSWORD>');
  const role = (raw: string) => {
    if (raw !== 'admin')
      throw new UsageError(`the one role is admin, not ${JSON.stringify(raw.slice(0, 40))}`);
    return raw;
  };
  for (const [name, grant, description] of [
    ['grant-role', true, 'make a user an admin (admins only; recorded)'],
    ['revoke-role', false, 'make an admin a customer again (never the last admin)'],
  ] as const) {
    leaf(user, name, description, users('changeRole'), ({ id }: { id: string }) => ({ id, grant }))
      .argument('<ID>')
      .argument('<ROLE>', 'admin', role);
  }
  declareRepublish(leaf, user, "publish users' logged events N..M again (admin)");
  leaf(
    user,
    'bootstrap-admin',
    'make the first admin, straight in the database (DATABASE_URL; refused once an admin exists)',
    async (request: BootstrapAdmin, env) => (await usersModule()).bootstrapAdmin(request, env),
  )
    .requiredOption('--email <EMAIL>')
    .requiredOption('--password <PASSWORD>')
    .option('--name <NAME>', 'their name', 'Admin')
    .option('--database-url <URL>', 'the users database (default: DATABASE_URL)');
}

/** What customers read: the catalog and their notifications. */
function declareReading(program: Command, leaf: Leaf): void {
  const product = group(program, 'products', 'the catalog that prices orders');
  leaf(product, 'list', 'the catalog', products('listProducts')).addOption(limitOption());
  leaf(product, 'get <SKU>', 'one product', products('getProduct'));
  const notifications = group(program, 'notifications', 'what was sent to users');
  leaf(notifications, 'list', 'notifications, newest first', notified('listNotifications'))
    .option('--user <ID>', "this user's (default: yours)")
    .addOption(limitOption());
}
