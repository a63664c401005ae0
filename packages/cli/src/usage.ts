const sections: Record<string, string> = {
  users: `  users create --email EMAIL --name NAME    create a user (a welcome mail follows)
  users get ID                              show one user`,
  notifications: `  notifications list [--user ID] [--limit N]
                                            notifications, newest first (N: 1-500)`,
  products: `  products list [--limit N]                 the catalog that prices orders
  products get SKU                          one product`,
  mail: `  mail                                      mails caught by the local SMTP sink, newest first`,
  status: `  status                                    gRPC health and readiness of every service`,
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
  ./bin/conveyor users create --email ada@example.com --name "Ada Lovelace"
  ./bin/conveyor products list
  ./bin/conveyor mail
  ./bin/conveyor notifications list --limit 10
  ./bin/conveyor status --json

Addresses come from .conveyor/stack.json (written by up), else the defaults; override
them with USERS_ADDR, ORDERS_ADDR, NOTIFICATIONS_ADDR (host:port), <SERVICE>_OPS_URL and SMTP_WEB_URL.
Exit codes: 0 ok, 1 failed or unreachable, 2 rejected by the service, 64 bad usage.
`;

export const helpTopics = Object.keys(sections);

/** The full help, or one command's lines when `topic` names a command. */
export function usage(topic?: string): string {
  const section = topic === undefined ? undefined : sections[topic];
  if (section === undefined) return general;
  return `Usage:\n${section}\n\nOptions: --json (raw JSON), --help. See ./bin/conveyor help for more.\n`;
}
