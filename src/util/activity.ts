/**
 * The recent activity for the admin console (issue 22): the last messages accepted, the refusals
 * (a refused sender, recipient or message, with the reply) and the delivery attempts, taken from the
 * log lines as they are written (`msg=accepted`, `msg=refused`, `msg=delivery`; src/util/log.ts) so
 * what the console shows is what the log says. This module alone decides which lines count.
 *
 * With `serve --workers N` each worker's events travel to the primary beside its counters
 * (src/util/counters.ts `parts.activity`), and `recentActivity()` there merges them by time.
 */
import { onLogLine } from "./log.ts";

export const ACTIVITY_KINDS = ["accepted", "refusal", "delivery"] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export interface ActivityEvent {
  time: string;
  kind: ActivityKind;
  /** The outbound queue's message id, where the event has one. */
  queueId: number | null;
  from: string | null;
  to: string | null;
  /** What happened: the verdict of an accepted message, the refusal's reply, the delivery's status and reply. */
  result: string;
  /** The process that handled it (the primary or a worker). */
  pid: number;
}

/** How many events each process keeps. */
export const ACTIVITY_LIMIT = 500;

const events: ActivityEvent[] = [];

const text = (v: unknown): string | null => v === undefined || v === null || v === "" ? null : String(v);
const queueId = (v: unknown): number | null => (typeof v === "number" || /^\d+$/.test(String(v)) ? Number(v) : null);
/** `FROM:<a@b> SIZE=12` as the client sent it: the address in angle brackets, or the argument as is. */
const address = (v: unknown): string | null => {
  const s = text(v);
  return s === null ? null : s.match(/<[^>]*>/)?.[0] ?? s;
};

type Fields = Record<string, unknown>;

/** By log message, the event its line stands for (without time and pid). */
const EVENTS: Record<string, (f: Fields) => Omit<ActivityEvent, "time" | "pid">> = {
  accepted: (f) => ({
    kind: "accepted",
    queueId: queueId(f.queue),
    from: text(f.from),
    to: text(f.to),
    result: `${f.verdict ?? "accept"}${f.stored !== undefined ? `, stored ${f.stored}` : ""}`,
  }),
  refused: (f) => ({
    kind: "refusal",
    queueId: null,
    from: address(f.from),
    to: address(f.to),
    result: `${text(f.reply) ?? "refused"}${f.stage ? ` (${f.stage}${f.ip ? ` from ${f.ip}` : ""})` : ""}`,
  }),
  delivery: (f) => ({
    kind: "delivery",
    queueId: queueId(f.queue),
    from: null,
    to: text(f.to),
    result: [f.status, f.dsn, f.relay && `via ${f.relay}`, f.reply].filter(Boolean).join(" "),
  }),
};

/** The event a log line stands for (at `time()`), or null when it is not one the console shows. */
export function activityOf(message: string, fields: Fields, time: () => string): ActivityEvent | null {
  const event = Object.hasOwn(EVENTS, message) ? EVENTS[message]!(fields) : null;
  return event && { time: time(), ...event, pid: process.pid };
}

/** Keeps one event, dropping the oldest past ACTIVITY_LIMIT. */
export function recordActivity(event: ActivityEvent): void {
  events.push(event);
  if (events.length > ACTIVITY_LIMIT) events.splice(0, events.length - ACTIVITY_LIMIT);
}

onLogLine((message, fields, time) => {
  const event = activityOf(message, fields, time);
  if (event) recordActivity(event);
});

/** This process's events, oldest first (a copy; what a worker sends the primary). */
export function localActivity(): ActivityEvent[] {
  return events.slice();
}

/** Forgets this process's events (for tests). */
export function clearActivity(): void {
  events.length = 0;
}

/**
 * The most recent events of this process and of `peers` (the workers' lists), newest first,
 * of one kind or all, at most `limit`.
 */
export function recentActivity(
  options: { kind?: ActivityKind; limit?: number; peers?: readonly unknown[] } = {},
): ActivityEvent[] {
  const all = [...events];
  for (const list of options.peers ?? []) if (Array.isArray(list)) all.push(...(list as ActivityEvent[]));
  return all
    .filter((e) => !options.kind || e.kind === options.kind)
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
    .slice(0, options.limit ?? ACTIVITY_LIMIT);
}
