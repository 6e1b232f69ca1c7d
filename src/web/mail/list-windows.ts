/**
 * The message list's data, a window of PAGE_SIZE at a time: the list scrolls over the whole mailbox (virtual
 * scrolling, src/web/mail/message-list.ts) and asks for the range in view; each window missing from it is one JMAP
 * request (Email/query with `position` and `limit`, RFC 8620 §5.5, one per conversation when collapsed, RFC 8621
 * §4.4.3; its Email/get and Thread/get by back-reference), so a 100,000-message mailbox costs what a 50-message one
 * does. A change (the EventSource) reloads the windows in view and forgets the others.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import type { EmailSummary } from "./types.ts";

export const PAGE_SIZE = 50;

const LIST_PROPERTIES = [
  "id",
  "threadId",
  "mailboxIds",
  "keywords",
  "from",
  "to",
  "subject",
  "preview",
  "receivedAt",
  "hasAttachment",
];

export interface ListWindows {
  /** The loaded rows by position in the list. */
  rows: Map<number, EmailSummary>;
  total: number;
  /** threadId → how many messages the conversation has. */
  threadSizes: Record<string, number>;
  /** Positions first to last (inclusive) are in view: their windows are loaded if missing. */
  show: (first: number, last: number) => void;
}

export function useListWindows(
  jmap: Jmap,
  filter: Record<string, unknown> | null,
  collapsed: boolean,
  tick: number,
  fail: (e: unknown) => void,
): ListWindows {
  const key = JSON.stringify([filter, collapsed]);
  const [loaded, setLoaded] = useState<{ key: string; windows: Map<number, EmailSummary[]>; total: number }>({
    key,
    windows: new Map(),
    total: 0,
  });
  const [threadSizes, setThreadSizes] = useState<Record<string, number>>({});
  const [range, setRange] = useState<[number, number]>([0, PAGE_SIZE - 1]);
  /** Windows asked for and not answered yet, by query key, so scrolling does not ask twice. */
  const asked = useRef(new Set<string>());
  const seenTick = useRef(tick);

  useEffect(() => {
    if (!filter) return;
    const first = Math.floor(range[0] / PAGE_SIZE);
    const last = Math.floor(range[1] / PAGE_SIZE);
    const changed = seenTick.current !== tick;
    seenTick.current = tick;
    const current = loaded.key === key ? loaded.windows : new Map<number, EmailSummary[]>();
    if (loaded.key !== key || changed) {
      // A new query starts empty; a change keeps the windows in view (shown until their reload) and drops the rest.
      const kept = new Map([...current].filter(([w]) => w >= first && w <= last));
      setLoaded(loaded.key === key ? { ...loaded, windows: kept } : { key, windows: new Map(), total: 0 });
    }
    for (let w = first; w <= last; w++) {
      const id = `${key} ${w} ${tick}`;
      if ((!changed && loaded.key === key && current.has(w)) || asked.current.has(id)) continue;
      asked.current.add(id);
      jmap.request([
        ["Email/query", {
          filter,
          sort: [{ property: "receivedAt", isAscending: false }],
          collapseThreads: collapsed,
          position: w * PAGE_SIZE,
          limit: PAGE_SIZE,
          calculateTotal: true,
        }, "q"],
        [
          "Email/get",
          { "#ids": { resultOf: "q", name: "Email/query", path: "/ids" }, properties: LIST_PROPERTIES },
          "g",
        ],
        ["Thread/get", { "#ids": { resultOf: "g", name: "Email/get", path: "/list/*/threadId" } }, "t"],
      ]).then(([query, got, threads]) => {
        asked.current.delete(id);
        const list = (got![1] as { list: EmailSummary[] }).list;
        const total = (query![1] as { total?: number }).total ?? 0;
        setLoaded((now) => (now.key === key ? { key, windows: new Map(now.windows).set(w, list), total } : now));
        const sizes = (threads![1] as { list: Array<{ id: string; emailIds: string[] }> }).list;
        setThreadSizes((now) => ({ ...now, ...Object.fromEntries(sizes.map((t) => [t.id, t.emailIds.length])) }));
      }, (e) => {
        asked.current.delete(id);
        fail(e);
      });
    }
  }, [key, range[0], range[1], tick]);

  const rows = new Map<number, EmailSummary>();
  if (loaded.key === key) {
    for (const [w, list] of loaded.windows) list.forEach((e, i) => rows.set(w * PAGE_SIZE + i, e));
  }
  return {
    rows,
    total: loaded.key === key ? loaded.total : 0,
    threadSizes,
    show: (first, last) => setRange((r) => (r[0] === first && r[1] === last ? r : [first, last])),
  };
}
