import { ValidationSeverity, validate } from 'dockerfile-utils';

/**
 * Lints a Dockerfile: the syntax and instruction checks of `dockerfile-utils` (the linter of
 * the VS Code Docker extension) with every check set to error, plus the rules an image of this
 * project must follow, which that linter does not know.
 */

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: Instruction | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (/^\s*#/.test(line) || line.trim() === '')) return;
    if (pending && /^\s*#/.test(line)) return;
    const continues = line.endsWith('\\');
    const body = continues ? line.slice(0, -1) : line;
    if (pending) pending.args += ` ${body.trim()}`;
    else {
      const m = /^\s*(\S+)\s*(.*)$/.exec(body)!;
      pending = { keyword: m[1]!.toUpperCase(), args: m[2]!, line: index + 1 };
    }
    if (!continues) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  return out;
}

const severities = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const execForm = (args: string) => {
  try {
    return Array.isArray(JSON.parse(args)) ? (JSON.parse(args) as string[]) : undefined;
  } catch {
    return undefined;
  }
};

function projectRules(instructions: Instruction[]): string[] {
  const out: string[] = [];
  const args = new Map<string, string>();
  const stages: { name?: string; from: Instruction; body: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = i.args.split('=', 2);
      if (value !== undefined) args.set(name!.trim(), value.trim());
    } else if (i.keyword === 'FROM') {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = words[0]!.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args.get(n) ?? '');
      const known = stages.some((s) => s.name === image);
      const tag = image.split('@')[0]!.split('/').at(-1)!.split(':')[1];
      if (!known && !image.includes('@sha256:') && (!tag || tag === 'latest')) {
        out.push(`line ${i.line}: base image ${words[0]} (${image || 'empty'}) is not pinned to a version`);
      }
      stages.push({ name: words[2], from: i, body: [] });
    } else {
      stages.at(-1)?.body.push(i);
    }
  }
  if (stages.length < 2) out.push('not a multi-stage build: build and runtime share one image');
  for (const [index, stage] of stages.entries()) {
    for (const i of stage.body) {
      const from = /--from=(\S+)/.exec(i.args)?.[1];
      if (i.keyword === 'COPY' && from && !stages.slice(0, index).some((s) => s.name === from)) {
        out.push(`line ${i.line}: COPY --from=${from} names no earlier stage`);
      }
      if (i.keyword === 'ADD')
        out.push(`line ${i.line}: ADD (${/https?:|git@/.test(i.args) ? 'of a URL' : 'use COPY'})`);
      if (i.keyword === 'RUN' && /apt-get install/.test(i.args)) {
        if (!/--no-install-recommends/.test(i.args))
          out.push(`line ${i.line}: apt-get install without --no-install-recommends`);
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(i.args))
          out.push(`line ${i.line}: apt lists left in the layer`);
        // The words after `install` up to the next command: packages unless options.
        const words = (/apt-get install([^&;|]*)/.exec(i.args)?.[1] ?? '').trim().split(/\s+/);
        for (const word of words.filter((w) => w && !w.startsWith('-'))) {
          if (!/=/.test(word)) out.push(`line ${i.line}: apt package ${word} is not pinned to a version`);
        }
      }
      if (i.keyword === 'RUN' && /\bnpm (install|ci)\b/.test(i.args) && !/--omit=dev/.test(i.args)) {
        out.push(`line ${i.line}: npm installs dev dependencies (no --omit=dev)`);
      }
      if (
        (i.keyword === 'ENV' || i.keyword === 'ARG') &&
        /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY)\w*\s*=/i.test(i.args)
      ) {
        out.push(`line ${i.line}: a secret baked into the image (${i.keyword})`);
      }
    }
  }
  const last = stages.at(-1);
  if (!last) return [...out, 'no FROM'];
  const final = (keyword: string) => last.body.filter((i) => i.keyword === keyword).at(-1);
  const user = final('USER')?.args.split(':')[0];
  if (!user) out.push('the runtime stage runs as root (no USER)');
  else if (user === 'root' || user === '0') out.push(`the runtime stage runs as ${user}`);
  else if (!/^\d+$/.test(user))
    out.push(`USER ${user} is not numeric: Kubernetes runAsNonRoot cannot verify it`);
  const health = final('HEALTHCHECK');
  if (!health || /^NONE\b/i.test(health.args)) out.push('the runtime stage has no HEALTHCHECK');
  const entrypoint = final('ENTRYPOINT');
  const exec = entrypoint && execForm(entrypoint.args);
  if (!exec) out.push('ENTRYPOINT is missing or not in exec (JSON) form');
  else if (!/(^|\/)(tini|dumb-init)$/.test(exec[0]!))
    out.push(`PID 1 is ${exec[0]}, not an init (tini, dumb-init)`);
  const cmd = final('CMD');
  if (cmd && !execForm(cmd.args)) out.push('CMD is not in exec (JSON) form');
  return out;
}

/** Problems found in a Dockerfile's text; empty when it passes. */
export function lintDockerfile(text: string): string[] {
  const linter = validate(text, severities).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  return [...linter, ...projectRules(parseDockerfile(text))];
}

/** Whether `path` (relative, forward slashes) is sent to the build by a .dockerignore. */
export function inBuildContext(path: string, dockerignore: string): boolean {
  let included = true;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replaceAll('*', '[^/]*')
                .replaceAll('?', '[^/]'),
        )
        .join('/')
        .replaceAll('.*/', '(.*/)?')}$`,
    );
    // A pattern matches the path or any of its parent directories.
    const parts = path.split('/');
    const hit = parts.some((_, n) => regex.test(parts.slice(0, n + 1).join('/')));
    if (hit) included = negated;
  }
  return included;
}
