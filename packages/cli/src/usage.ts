const sections: Record<string, string> = {
  users: `  users create --email EMAIL --name NAME --password PASSWORD
                                            sign a user up (password: 12-128 characters)
  users get ID                              show one user (yourself, or anyone as admin)
  users change-password --current PASSWORD --new PASSWORD
                                            change your password; other sessions end
  users request-reset --email EMAIL         mail a one-time code to reset a forgotten password
  users reset-password --token CODE --password PASSWORD
                                            set a new password with the mailed code
  users grant-role ID admin                 make a user an admin (admins only; recorded)
  users revoke-role ID admin                make an admin a customer again (never the last admin)
  users republish --from N [--to M]         publish users' logged events N..M again (admin)
  users bootstrap-admin --email EMAIL --password PASSWORD [--name NAME] [--database-url URL]
                                            make the first admin, straight in the database
                                            (DATABASE_URL; refused once an admin exists)`,
  login: `  login --email EMAIL --password PASSWORD   sign in; saves the access token (15 min) to
                                            $XDG_STATE_HOME/conveyor/token (~/.local/state/...)
                                            that every other command sends; CONVEYOR_TOKEN overrides
  logout                                    end every session of the logged-in user (their tokens
                                            are refused from now on) and delete the saved token`,
  notifications: `  notifications list [--user ID] [--limit N]
                                            notifications, newest first (N: 1-500)`,
  webhooks: `  webhooks register (--user ID | --global) --url URL
                                            post a user's events (or every event) to URL, signed;
                                            prints the signing secret once
  webhooks list [--user ID] [--limit N]     registered webhooks (never their secrets)
  webhooks delete ID                        delete one; its pending deliveries are cancelled
  webhooks sink [--accept | --refuse | --fail] [--limit N]
                                            the local webhook sink (conveyor up, 127.0.0.1:9999):
                                            what it received, newest first; make it answer 2xx
                                            (accept), 410 (refuse: dead letter at once) or 503
                                            (fail: retried until the attempts run out)`,
  dlq: `  dlq list [--subject S] [--reason TEXT] [--limit N] [--after ID]
                                            dead letters of the notification consumer, oldest first
                                            (S: original subject, e.g. order.paid; TEXT: part of the reason)
  dlq show ID                               one dead letter: reason, counts, headers, payload
  dlq redrive ID | --all | [--subject S] [--reason TEXT] [--limit N]
                                            publish the originals again and remove them; safe to
                                            repeat (the consumer drops events it already handled)
  dlq purge ID | --all | [--subject S] [--reason TEXT]
                                            remove dead letters for good
                                            (deliveries that gave up; a message that keeps failing
                                            is under dead-letters)`,
  'dead-letters': `  dead-letters list [--service orders|notifications]
                                            every consumer's failing heads: the event of a key (an
                                            order, a user) that keeps failing, and how many later
                                            events of that key are parked behind it (others flow)
  dead-letters show SERVICE/ID              one head and the events parked behind it, in order
  dead-letters redrive SERVICE/ID           apply the head, then the parked events, in order
  dead-letters discard SERVICE/ID --yes     drop the head unapplied, then apply the parked events`,
  consumers: `  consumers list [--service orders|notifications]
                                            every durable consumer: running or paused, its lag
                                            (pending, unacknowledged, redelivered) and replicas
  consumers pause SERVICE/STREAM/DURABLE [--reason TEXT]
                                            every replica stops pulling within a second; events
                                            wait in the stream (e.g. notifications/ORDERS/notifications)
  consumers resume SERVICE/STREAM/DURABLE   pull again, from where it stopped
  consumers reset SERVICE/STREAM/DURABLE (--to-sequence N | --to-time T) --yes
                                            deliver the stream again from N or T (a paused consumer;
                                            it stays paused until resumed; no further back than the
                                            inboxes remember, 35 days: no effect happens twice)`,
  timers: `  timers list [--service orders|notifications] [--limit N]
                                            durable timers due soonest (e.g. an unpaid order's
                                            payment timeout): when, what, attempts, last error`,
  products: `  products list [--limit N]                 the catalog that prices orders
  products get SKU                          one product`,
  orders: `  orders place --item SKU:QTY [--item SKU:QTY ...] [--key KEY] [--user ID]
                                            place an order priced from the catalog, for yourself
                                            (admins: --user for someone else); KEY (default: a new
                                            UUID, printed) makes retries return the same order
  orders pay ID                             pay a placed order
  orders ship ID --carrier C --tracking T   ship a paid order
  orders deliver ID                         mark a shipped order delivered
  orders cancel ID --reason TEXT            cancel an order that has not shipped
  orders show ID                            one order, from the read model
  orders list [--user ID] [--status S] [--limit N]
                                            your orders (admins: --user's), newest first
                                            (S: placed, paid, shipped, delivered, cancelled)
  orders history ID                         every event of an order, with the state after it
  orders at ID --version N | --time T       the order after its Nth event, or as of T (ISO-8601,
                                            local unless Z or +hh:mm; 10:15:30 includes that second)
  orders republish --from N [--to M]        publish the events at store positions N..M again
                                            (default M: the newest); consumers absorb copies`,
  projections: `  projections rebuild                       rebuild the order read models from the events, with
                                            progress (--json: one JSON line per report)`,
  mail: `  mail                                      mails caught by the local SMTP sink, newest first`,
  status: `  status                                    health and readiness of every service and the gateway`,
};

const general = `Usage: ./bin/conveyor <command> [options]

Commands:
  up                                        run the whole system locally (Ctrl-C stops it)
  test [unit|int|e2e|FILE...]               run the tests
${Object.values(sections).join('\n')}
  help [COMMAND]                            this help

Options:
  --json      print raw JSON instead of tables
  --help, -h  help for a command

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
right status), 64 bad usage.
`;

export const helpTopics = Object.keys(sections);

/** The full help, or one command's lines when `topic` names a command. */
export function usage(topic?: string): string {
  const section = topic === undefined ? undefined : sections[topic];
  if (section === undefined) return general;
  return `Usage:\n${section}\n\nOptions: --json (raw JSON), --help. See ./bin/conveyor help for more.\n`;
}
