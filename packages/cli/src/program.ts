import { Command, CommanderError, Help } from 'commander';
import type { Endpoints } from './addresses.ts';
import { type Outcome, UsageError } from './cli-error.ts';
import { declareCommands } from './commands.ts';

/** What a command line asks for: the command ('orders show'), its checked arguments and options, --json. */
export type Request = { kind: string; json: boolean };

/** A command line understood: what it asks for, and what carries it out. */
export interface Parsed {
  request: Request;
  execute(env: NodeJS.ProcessEnv): Promise<Outcome>;
}

export type Handler<R> = (request: R, env: NodeJS.ProcessEnv) => Promise<Outcome>;
type SystemHandler<R> = (endpoints: Endpoints, request: R, env: NodeJS.ProcessEnv) => Promise<Outcome>;
/** The request a SystemHandler takes; for anything else a type no leaf accepts. */
type RequestOf<F> = F extends SystemHandler<infer R> ? R : 'not a handler of (endpoints, request, env)';

/**
 * The handlers of a module that talks to the running system, by name: `system(load)('showOrder')`.
 * The module, and gRPC with it, loads only when the command runs: `conveyor status` does not pay
 * for the orders client (README: Operations, CLI timing).
 */
export function system<M>(load: () => Promise<M>) {
  return <K extends keyof M>(name: K): Handler<RequestOf<M[K]>> =>
    async (request, env) => {
      const { loadEndpoints } = await import('./addresses.ts');
      const handler = (await load())[name] as SystemHandler<RequestOf<M[K]>>;
      return handler(await loadEndpoints(env), request, env);
    };
}

/** `orders show`: the command's names below the program. */
const pathOf = (command: Command): string =>
  command.parent ? `${pathOf(command.parent)} ${command.name()}`.trim() : '';

/** A name such as <SERVICE/ID> is a reference (`ref`); <ID> is `id`. */
const keyOf = (name: string) => (name.includes('/') ? 'ref' : name.toLowerCase());

const helpShown = (error: CommanderError) =>
  error.code === 'commander.helpDisplayed' || error.code === 'commander.help';

/** Commander's own refusals (unknown option, missing argument...) as usage errors naming the command. */
function usageErrors(command: Command): Command {
  return command.exitOverride((error) => {
    if (helpShown(error)) throw error;
    const path = pathOf(command);
    const said = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    const message = `${path ? `${path}: ` : ''}${said}`;
    throw new UsageError(message.length > 300 ? `${message.slice(0, 300)}…` : message);
  });
}

/** `parent name`: a command that groups others (orders), or a leaf's start; its refusals are usage errors. */
export function group(parent: Command, name: string, description: string): Command {
  return usageErrors(parent.command(name).description(description));
}

export type Leaf = ReturnType<typeof leafDeclarer>;

function leafDeclarer(found: (parsed: Parsed) => void) {
  /**
   * Declares `parent nameAndArgs`. Its request is its arguments (by name) and options, or what
   * `shape` makes of them (checks across options), with --json.
   */
  return function leaf<R extends { json: boolean }, V>(
    parent: Command,
    nameAndArgs: string,
    description: string,
    handler: Handler<R>,
    shape: (values: V) => object = (values) => values as object,
  ): Command {
    const command = group(parent, nameAndArgs, description);
    return command.action(() => {
      const values: Record<string, unknown> = { ...command.opts() };
      command.registeredArguments.forEach((argument, i) => {
        values[keyOf(argument.name())] = command.processedArgs[i];
      });
      const json = command.optsWithGlobals().json === true;
      const request = { kind: pathOf(command), ...shape(values as V), json };
      // Commander's values are untyped: the declaration's options and `shape` make them an R.
      found({ request, execute: (env) => handler(request as unknown as R, env) });
    });
  };
}

/** The program's help lists every command with what it needs; a long one has its description below. */
const help: Partial<Help> = {
  showGlobalOptions: true,
  helpWidth: 110,
  visibleCommands: (command) =>
    command.parent
      ? [...command.commands]
      : command.commands.flatMap((c) => (c.commands.length ? c.commands : [c])),
  subcommandTerm: (command) =>
    [
      pathOf(command),
      ...command.registeredArguments.map((a) => {
        const name = `${a.name()}${a.variadic ? '...' : ''}`;
        return a.required ? `<${name}>` : `[${name}]`;
      }),
      ...command.options.filter((o) => o.mandatory).map((o) => o.flags),
      command.options.some((o) => !o.mandatory) ? '[options]' : '',
    ]
      .filter(Boolean)
      .join(' '),
  formatItem(term, termWidth, description, helper) {
    const width = Math.min(termWidth, 40);
    if (term.length <= width) return Help.prototype.formatItem.call(helper, term, width, description, helper);
    return `  ${term}\n${Help.prototype.formatItem.call(helper, '', width, description, helper)}`;
  },
};

/** Turns the command line (without `node main.ts`) into what it asks for; throws UsageError. */
export function parseCommand(argv: readonly string[]): Parsed {
  let parsed: Parsed | undefined;
  let printed = '';
  const print = (text: string) => {
    printed += text;
  };
  const program = usageErrors(new Command('./bin/conveyor'))
    .usage('<command> [options]')
    .option('--json', 'print raw JSON instead of tables')
    .helpCommand(false)
    .configureOutput({ writeOut: print, writeErr: print, outputError: () => {} })
    .configureHelp(help);
  declareCommands(
    program,
    leafDeclarer((found) => {
      parsed = found;
    }),
  );
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError && helpShown(error))) throw error;
    return { request: { kind: 'help', json: false }, execute: async () => ({ text: printed }) };
  }
  if (parsed === undefined) throw new Error(`no command for ${argv.join(' ')}`);
  return parsed;
}
