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

/** The event a log line stands for, or null when it is not one the console shows. */
export function activityOf(time: string, message: string, f: Record<string, unknown>): ActivityEvent | null {
  const base = { time, pid: process.pid };
  switch (message) {
    case "accepted":
      return {
        ...base,
        kind: "accepted",
        queueId: queueId(f.queue),
        from: text(f.from),
        to: text(f.to),
        result: `${f.verdict ?? "accept"}${f.stored !== undefined ? `, stored ${f.stored}` : ""}`,
      };
    case "refused":
      return {
        ...base,
        kind: "refusal",
        queueId: null,
        from: address(f.from),
        to: address(f.to),
        result: `${text(f.reply) ?? "refused"}${f.stage ? ` (${f.stage}${f.ip ? ` from ${f.ip}` : ""})` : ""}`,
      };
    case "delivery":
      return {
        ...base,
        kind: "delivery",
        queueId: queueId(f.queue),
        from: null,
        to: text(f.to),
        result: [f.status, f.dsn, f.relay && `via ${f.relay}`, f.reply].filter(Boolean).join(" "),
      };
  }
  return null;
}

/** Keeps one event, dropping the oldest past ACTIVITY_LIMIT. */
export function recordActivity(event: ActivityEvent): void {
  events.push(event);
  if (events.length > ACTIVITY_LIMIT) events.splice(0, events.length - ACTIVITY_LIMIT);
}

onLogLine((time, message, fields) => {
  const event = activityOf(time, message, fields);
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
