import type { Command } from 'commander';
import { UsageError } from './cli-error.ts';
import {
  consumerRef,
  dlqRequest,
  limitOption,
  pauseReason,
  resetRequest,
  sequenceRef,
  serviceOf,
  streamSequence,
  wholeNumber,
} from './option-values.ts';
import { parseInstant } from './order-values.ts';
import { group, type Leaf, system } from './program.ts';

const dlq = system(() => import('./dlq-commands.ts'));
const webhooks = system(() => import('./notification-commands.ts'));
const sequences = system(() => import('./sequence-commands.ts'));
const consumers = system(() => import('./consumer-commands.ts'));

const services = 'orders or notifications (default: both)';

/** Dead letters, webhooks, consumers and timers: what operators and admins run. */
export function declareOperations(program: Command, leaf: Leaf): void {
  declareDeliveries(program, leaf);
  const letters = group(
    program,
    'dead-letters',
    "every consumer's failing heads and the events parked behind them",
  );
  leaf(
    letters,
    'list',
    'the event of a key that keeps failing, and how many wait behind it',
    sequences('listSequences'),
  ).option('--service <S>', services, serviceOf);
  const release = sequences('releaseSequence');
  for (const [name, description, handler] of [
    ['show', 'one head and the events parked behind it, in order', sequences('showSequence')],
    ['redrive', 'apply the head, then the parked events, in order', release],
    ['discard', 'drop the head unapplied, then apply the parked events', release],
  ] as const) {
    const command = leaf(letters, name, description, handler);
    command.argument('<SERVICE/ID>', 'a dead letter such as orders/12', sequenceRef);
    if (name === 'discard') command.option('--yes', 'it cannot be undone');
  }

  const durable = group(program, 'consumers', 'every durable consumer: pause, resume, replay');
  const control = consumers('controlConsumer');
  leaf(durable, 'list', 'running or paused, its lag and replicas', consumers('listConsumers')).option(
    '--service <S>',
    services,
    serviceOf,
  );
  const consumer = [
    '<SERVICE/STREAM/DURABLE>',
    'a consumer such as notifications/ORDERS/notifications',
    consumerRef,
  ] as const;
  leaf(durable, 'pause', 'every replica stops pulling within a second; events wait in the stream', control)
    .argument(...consumer)
    .option('--reason <TEXT>', 'why (at most 200 characters)', pauseReason);
  leaf(durable, 'resume', 'pull again, from where it stopped', control).argument(...consumer);
  leaf(
    durable,
    'reset',
    'deliver the stream again from N or T (a paused consumer; it stays paused until resumed; no further back than the inboxes remember, 35 days: no effect happens twice)',
    control,
    resetRequest,
  )
    .argument(...consumer)
    .option('--to-sequence <N>', 'the stream sequence to start at', streamSequence)
    .option('--to-time <T>', 'the instant to start at (ISO-8601)', (raw) =>
      parseInstant(raw, { option: '--to-time', edge: 'start' }),
    )
    .option('--yes', 'it cannot be undone');

  leaf(
    group(program, 'timers', 'durable timers'),
    'list',
    "due soonest (e.g. an unpaid order's payment timeout): when, what, attempts, last error",
    system(() => import('./timer-commands.ts'))('listTimers'),
  )
    .option('--service <S>', services, serviceOf)
    .addOption(limitOption());
}

/** The notification consumer's dead letters (`dlq`) and webhooks. */
function declareDeliveries(program: Command, leaf: Leaf): void {
  const letters = group(
    program,
    'dlq',
    'dead letters of the notification consumer (deliveries that gave up)',
  );
  leaf(letters, 'list', 'oldest first', dlq('listDeadLetters'))
    .option('--subject <S>', 'original subject, e.g. order.paid')
    .option('--reason <TEXT>', 'part of the reason')
    .addOption(limitOption())
    .option('--after <ID>', 'the page after this id');
  leaf(letters, 'show <ID>', 'reason, counts, headers, payload', dlq('showDeadLetter'));
  for (const [name, description, handler] of [
    [
      'redrive',
      'publish the originals again and remove them; safe to repeat (the consumer drops events it already handled)',
      dlq('redriveDeadLetters'),
    ],
    ['purge', 'remove dead letters for good', dlq('purgeDeadLetters')],
  ] as const) {
    const command = leaf(letters, `${name} [ID]`, description, handler, dlqRequest(`dlq ${name}`))
      .option('--all', 'every dead letter')
      .option('--subject <S>', 'original subject, e.g. order.paid')
      .option('--reason <TEXT>', 'part of the reason');
    if (name === 'redrive')
      command.option('--limit <N>', 'at most N (1-10000)', wholeNumber('--limit', 1, 10_000));
  }

  const hooks = group(program, 'webhooks', "post users' events to URLs, signed");
  leaf(
    hooks,
    'register',
    "post a user's events (or every event, --global) to URL, signed; prints the signing secret once",
    webhooks('registerWebhook'),
    ({ user, global, url }: { user?: string; global?: boolean; url: string }) => {
      if ((user === undefined) === (global !== true))
        throw new UsageError('webhooks register needs either --user ID or --global');
      return { user, global: global === true, url };
    },
  )
    .option('--user <ID>', "this user's events")
    .option('--global', 'every event')
    .requiredOption('--url <URL>');
  leaf(hooks, 'list', 'registered webhooks (never their secrets)', webhooks('listWebhooks'))
    .option('--user <ID>', "this user's")
    .addOption(limitOption());
  leaf(hooks, 'delete <ID>', 'delete one; its pending deliveries are cancelled', webhooks('deleteWebhook'));
  leaf(
    hooks,
    'sink',
    'the local webhook sink (conveyor up, 127.0.0.1:9999): what it received, newest first',
    system(() => import('./sink-commands.ts'))('webhookSink'),
    ({ limit, ...flags }: { limit?: number; accept?: boolean; refuse?: boolean; fail?: boolean }) => {
      const answers = Object.keys(flags);
      if (answers.length > 1) throw new UsageError('webhooks sink takes one of --accept, --refuse, --fail');
      return { answer: answers[0], limit };
    },
  )
    .option('--accept', 'make it answer 2xx')
    .option('--refuse', 'make it answer 410 (refuse: dead letter at once)')
    .option('--fail', 'make it answer 503 (retried until the attempts run out)')
    .addOption(limitOption());
}
