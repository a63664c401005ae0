const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '34' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '1;31' },
};
const LEVEL_NUMBERS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};
// `service` is already in the line's prefix.
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v', 'service']);
const MAX_KEYS = 8;
const MAX_VALUE = 120;

export function paint(text: string, code: string, color: boolean): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

interface PinoRecord {
  level: number;
  time?: number | string;
  msg?: unknown;
  [key: string]: unknown;
}

export function parsePinoLine(line: string): PinoRecord | undefined {
  if (!line.startsWith('{') || !line.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as Partial<Omit<PinoRecord, 'level'>> & { level?: unknown };
    // Conveyor's logger writes level labels ("info"); pino's default is numbers.
    const level = typeof record.level === 'string' ? LEVEL_NUMBERS[record.level] : record.level;
    return typeof level === 'number' && 'time' in record ? ({ ...record, level } as PinoRecord) : undefined;
  } catch {
    return undefined;
  }
}

function clock(time: number | string | undefined): string {
  const date = time === undefined ? new Date() : new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function compact(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

function describeError(err: unknown): { summary: string; stack: string | undefined } {
  if (typeof err !== 'object' || err === null) return { summary: compact(err), stack: undefined };
  const { type, message, stack } = err as { type?: unknown; message?: unknown; stack?: unknown };
  const summary = `${typeof type === 'string' ? `${type}: ` : ''}${String(message ?? '')}`;
  return { summary: compact(summary), stack: typeof stack === 'string' ? stack : undefined };
}

/**
 * Renders a pino JSON line as `12:00:00.000 INFO  message key=value …`; other lines are
 * returned unchanged. Error stacks are appended (indented) for error and fatal records.
 */
export function formatLogLine(line: string, color: boolean): string {
  const record = parsePinoLine(line);
  if (!record) return line;
  const level = LEVELS[record.level] ?? { name: `L${record.level}`, color: '0' };
  const parts = [paint(clock(record.time), '90', color), paint(level.name.padEnd(5), level.color, color)];
  if (record.msg !== undefined) parts.push(typeof record.msg === 'string' ? record.msg : compact(record.msg));
  let stack: string | undefined;
  const extra = Object.entries(record).filter(([key]) => !HIDDEN.has(key));
  for (const [key, value] of extra.slice(0, MAX_KEYS)) {
    if (key === 'err' || key === 'error') {
      const described = describeError(value);
      stack = described.stack;
      parts.push(`${paint(key, '90', color)}=${described.summary}`);
    } else {
      parts.push(`${paint(key, '90', color)}=${compact(value)}`);
    }
  }
  if (extra.length > MAX_KEYS) parts.push(paint(`(+${extra.length - MAX_KEYS} more)`, '90', color));
  let text = parts.join(' ');
  if (stack && record.level >= 50) {
    const frames = stack.split('\n').slice(1);
    if (frames.length > 0) text += `\n${frames.map((frame) => `    ${frame.trim()}`).join('\n')}`;
  }
  return text;
}
