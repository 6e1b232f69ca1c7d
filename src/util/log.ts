/**
 * The one logger: a line per event on stderr, as logfmt by default
 * (`time=2026-11-29T01:02:03.456Z level=info msg=accepted id=… from=<a@b> …`) or as one JSON
 * object a line (`log.format: "json"`). `log.level` (or `POSTERN_LOG_LEVEL`) drops the lines
 * below it. Values a client sent (a HELO, an address) are quoted and escaped like JSON strings,
 * so a line break in them can never start a line of its own.
 */
export type Level = "debug" | "info" | "warn" | "error";
export type LogFormat = "logfmt" | "json";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = "info";
let format: LogFormat = "logfmt";
let sink: (line: string) => void = toStderr;

/**
 * Lines logged in the same turn of the event loop go to stderr in one write (under load a write per line was
 * 4.5 % of the server's time). They are flushed at the next turn, and at exit.
 */
let pending = "";
let flushing: ReturnType<typeof setTimeout> | undefined;

function toStderr(line: string): void {
  pending += line;
  flushing ??= setTimeout(flushLog, 0);
}

/** Writes the lines not yet written. */
export function flushLog(): void {
  clearTimeout(flushing);
  flushing = undefined;
  if (!pending) return;
  const text = pending;
  pending = "";
  process.stderr.write(text);
}

process.on("exit", flushLog);

export function setLogLevel(level: Level): void {
  threshold = level;
}

export function setLogFormat(value: LogFormat): void {
  format = value;
}

/** Sets the level and format from the config (`log.level`, `log.format`). */
export function configureLog(options: { level: Level; format: LogFormat }): void {
  threshold = options.level;
  format = options.format;
}

/** Sends lines somewhere else than stderr (for tests); returns a function that puts stderr back. */
export function captureLog(write: (line: string) => void): () => void {
  const previous = sink;
  sink = write;
  return () => {
    sink = previous;
  };
}

function plain(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** A logfmt value: bare when it holds no space, quote, `=` or control character; else a JSON string. */
function logfmtValue(value: unknown): string {
  const v = plain(value);
  const text = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return text !== "" && /^[^\s"=\\\x00-\x1f\x7f]+$/.test(text) ? text : JSON.stringify(text);
}

/** Sees every event logged, whatever `log.level` drops (src/util/activity.ts keeps the recent ones). */
type LineListener = (message: string, fields: Record<string, unknown>, time: () => string) => void;
const listeners: LineListener[] = [];

/** Calls `listener` with each event as it is logged. */
export function onLogLine(listener: LineListener): void {
  listeners.push(listener);
}

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  // The time is read once, and only for a line written or an event a listener keeps.
  let stamp: string | undefined;
  const now = () => (stamp ??= new Date().toISOString());
  for (const listener of listeners) listener(message, fields, now);
  if (ORDER[level] < ORDER[threshold]) return;
  const time = now();
  if (format === "json") {
    const entry: Record<string, unknown> = { time, level, msg: message };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) entry[k] = plain(v);
    sink(`${JSON.stringify(entry)}\n`);
    return;
  }
  let line = `time=${time} level=${level} msg=${logfmtValue(message)}`;
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined) line += ` ${k}=${logfmtValue(v)}`;
  }
  sink(`${line}\n`);
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => write("debug", m, f),
  info: (m: string, f?: Record<string, unknown>) => write("info", m, f),
  warn: (m: string, f?: Record<string, unknown>) => write("warn", m, f),
  error: (m: string, f?: Record<string, unknown>) => write("error", m, f),
};

/** Parses one logfmt line into its fields (for tests and tools; values stay strings). */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s]*)/g;
  for (const m of line.matchAll(re)) {
    out[m[1]!] = m[2]!.startsWith('"') ? JSON.parse(m[2]!) as string : m[2]!;
  }
  return out;
}
