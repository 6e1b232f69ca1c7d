/**
 * Commands on messages of the selected mailbox (RFC 9051 §6.4): FETCH, STORE, SEARCH, COPY,
 * MOVE, EXPUNGE and CLOSE, with their UID forms, CONDSTORE/QRESYNC modifiers, UIDPLUS codes
 * and ESEARCH results.
 */
import type { ImapCommand } from "./commands.ts";
import {
  bad,
  type Completion,
  condstore,
  enableCondstore,
  findMailbox,
  type HandlerContext,
  no,
  ok,
  refresh,
  utf8,
} from "./context.ts";
import { fetchNeeds, fetchResponse } from "./fetch.ts";
import { keepContext, partialItem, resultOptions } from "./search-context.ts";
import { matching, usesModseq } from "./search-run.ts";
import { formatSequenceSet } from "./sequence-set.ts";
import type { MailboxView } from "./view.ts";

type Cmd<N extends ImapCommand["name"]> = ImapCommand & { name: N };

/** Messages are loaded in batches so a FETCH 1:* over a large mailbox streams rather than piles up. */
const BATCH = 200;

function selected(ctx: HandlerContext): MailboxView {
  return ctx.view!;
}

export async function fetch(ctx: HandlerContext, cmd: Cmd<"FETCH">, flush: () => Promise<void>): Promise<Completion> {
  const view = selected(ctx);
  if (!cmd.uid && view.outOfRange(cmd.set)) return bad("Message number beyond EXISTS");
  if (cmd.vanished && (!cmd.uid || cmd.changedSince === null)) return bad("VANISHED needs UID FETCH with CHANGEDSINCE");
  if (cmd.changedSince !== null || cmd.items.some((i) => i.item === "MODSEQ")) enableCondstore(ctx);
  let uids = view.resolve(cmd.set, cmd.uid);
  if (cmd.changedSince !== null) {
    const since = cmd.changedSince;
    uids = uids.filter((uid) => (view.state(uid)?.modseq ?? 0) > since);
    if (cmd.vanished) {
      const changes = await ctx.backend.changesSince(view.mailbox.id, since);
      const gone = (changes?.vanished ?? []).filter((uid) => !view.state(uid));
      if (gone.length) ctx.out.push(`* VANISHED (EARLIER) ${formatSequenceSet(gone)}\r\n`);
    }
  }
  const needs = fetchNeeds(cmd.items);
  const setSeen = needs.seen && !view.readOnly;
  for (let i = 0; i < uids.length; i += BATCH) {
    const batch = uids.slice(i, i + BATCH);
    if (setSeen) {
      const unseen = batch.filter((uid) => !view.state(uid)?.flags.includes("\\Seen"));
      if (unseen.length) {
        const result = await ctx.backend.store(view.mailbox.id, unseen, "add", ["\\Seen"], null);
        for (const s of result.updated) view.setState(s);
      }
    }
    const rows = await ctx.backend.summaries(view.mailbox.id, batch);
    const raws = needs.raw ? await ctx.backend.raws(view.mailbox.id, batch) : null;
    const saved = cmd.items.some((i) => i.item === "SAVEDATE")
      ? await ctx.backend.saveDates(view.mailbox.id, batch)
      : null;
    for (const uid of batch) {
      const row = rows.get(uid);
      const state = view.state(uid);
      if (!row || !state) continue; // expunged meanwhile: announced at the next chance
      const raw = raws?.get(uid) ?? null;
      if (needs.raw && !raw) continue;
      ctx.out.push(
        ...fetchResponse(
          {
            seq: view.seqOf(uid),
            uid,
            flags: view.isRecent(uid) ? [...state.flags, "\\Recent"] : state.flags,
            modseq: state.modseq,
            size: row.size,
            internalDate: row.internalDate,
            summary: row.summary,
            raw,
            emailId: row.emailId,
            threadId: row.threadId,
            saveDate: saved?.get(uid) ?? null,
          },
          setSeen && !cmd.items.some((it) => it.item === "FLAGS") ? [...cmd.items, { item: "FLAGS" }] : cmd.items,
          { utf8: utf8(ctx), uid: cmd.uid, condstore: condstore(ctx) },
        ),
      );
    }
    await flush();
  }
  await refresh(ctx, cmd.uid);
  return ok("FETCH completed");
}

export async function store(ctx: HandlerContext, cmd: Cmd<"STORE">): Promise<Completion> {
  const view = selected(ctx);
  if (view.readOnly) return no("The mailbox is read-only", "READ-ONLY");
  if (!cmd.uid && view.outOfRange(cmd.set)) return bad("Message number beyond EXISTS");
  if (cmd.unchangedSince !== null) enableCondstore(ctx);
  const flags = cmd.flags.filter((f) => f !== "\\Recent");
  const uids = view.resolve(cmd.set, cmd.uid);
  const result = await ctx.backend.store(view.mailbox.id, uids, cmd.mode, flags, cmd.unchangedSince);
  // A keyword new to the mailbox is announced before the FETCH that shows it (RFC 9051 §7.3.5).
  // The store shares one array among the messages that got the same flags: each set once.
  for (const set of new Set(result.updated.map((s) => s.flags))) ctx.out.push(...view.announce(set));
  const withModseq = condstore(ctx);
  const report = (s: { uid: number; flags: string[]; modseq: number }, changed: boolean) => {
    const seq = view.setState(s);
    // RFC 7162 §3.1.3: with UNCHANGEDSINCE, FETCH responses are sent even for .SILENT.
    if (cmd.silent && !(changed && cmd.unchangedSince !== null)) return;
    ctx.out.push(
      `* ${seq} FETCH (${cmd.uid ? `UID ${s.uid} ` : ""}FLAGS ${view.flagList(s.uid, s.flags)}${
        withModseq ? ` MODSEQ (${s.modseq})` : ""
      })\r\n`,
    );
  };
  for (const s of result.updated) report(s, true);
  for (const s of result.unchanged) report(s, false);
  await refresh(ctx, cmd.uid);
  if (result.modified.length) {
    const numbers = cmd.uid ? result.modified : result.modified.map((uid) => view.seqOf(uid)).sort((a, b) => a - b);
    return ok("Some messages were modified meanwhile", `MODIFIED ${formatSequenceSet(numbers)}`);
  }
  return ok("STORE completed");
}

export async function search(ctx: HandlerContext, cmd: Cmd<"SEARCH">): Promise<Completion> {
  const view = selected(ctx);
  if (cmd.charset && !["UTF-8", "US-ASCII"].includes(cmd.charset)) {
    return no("Supported charsets: UTF-8, US-ASCII", "BADCHARSET (UTF-8 US-ASCII)");
  }
  const update = cmd.returnOptions?.includes("UPDATE") ?? false;
  // RFC 5267 §4.3: a tag still naming an updating search cannot name another.
  if (update && view.contexts.has(cmd.tag)) return bad("Tag reuse: an UPDATE search already has this tag");
  const modseqKey = usesModseq(cmd.key);
  if (modseqKey) enableCondstore(ctx);
  const matched = await matching(ctx, cmd.key);
  const found = matched.map((m) => m.uid);
  const highestModseq = matched.reduce((max, m) => Math.max(max, m.modseq), 0);
  const numbers = cmd.uid ? found : found.map((uid) => view.seqOf(uid));
  if (cmd.returnOptions === null) {
    const modseq = modseqKey && found.length ? ` (MODSEQ ${highestModseq})` : "";
    ctx.out.push(`* SEARCH${numbers.map((n) => ` ${n}`).join("")}${modseq}\r\n`);
  } else {
    // RFC 4731 ESEARCH; RETURN () means ALL. SAVE (RFC 5182) keeps the result for "$".
    const options = resultOptions(cmd.returnOptions);
    if (options.includes("SAVE")) view.saved = savedResult(found, options);
    if (update) {
      ctx.out.push(...keepContext(ctx, { tag: cmd.tag, uid: cmd.uid, key: cmd.key, criteria: null, result: found }));
    }
    const parts: string[] = [];
    // Found in ascending UID order, which is ascending sequence order too.
    if (options.includes("MIN") && numbers.length) parts.push(`MIN ${numbers[0]}`);
    if (options.includes("MAX") && numbers.length) parts.push(`MAX ${numbers.at(-1)}`);
    if (options.includes("ALL") && numbers.length) {
      parts.push(`ALL ${formatSequenceSet(numbers)}`);
    }
    if (options.includes("COUNT")) parts.push(`COUNT ${numbers.length}`);
    if (cmd.partial) parts.push(partialItem(numbers, cmd.partial));
    if (modseqKey && found.length) parts.push(`MODSEQ ${highestModseq}`);
    if (!options.includes("SAVE") || options.length > 1) {
      ctx.out.push(
        `* ESEARCH (TAG "${ctx.currentTag}")${cmd.uid ? " UID" : ""}${parts.length ? ` ${parts.join(" ")}` : ""}\r\n`,
      );
    }
  }
  await refresh(ctx, cmd.uid);
  return ok("SEARCH completed");
}

export async function copyOrMove(ctx: HandlerContext, cmd: Cmd<"COPY" | "MOVE">): Promise<Completion> {
  const view = selected(ctx);
  if (!cmd.uid && view.outOfRange(cmd.set)) return bad("Message number beyond EXISTS");
  if (cmd.name === "MOVE" && view.readOnly) return no("The mailbox is read-only", "READ-ONLY");
  const target = await findMailbox(ctx, cmd.mailbox);
  if (!target) return no("No such mailbox", "TRYCREATE");
  const uids = view.resolve(cmd.set, cmd.uid);
  if (uids.length === 0) return ok(`${cmd.name} completed (no messages)`);
  const result = cmd.name === "COPY"
    ? await ctx.backend.copy(view.mailbox.id, uids, target.id)
    : await ctx.backend.move(view.mailbox.id, uids, target.id);
  // RFC 9208 §4.3: a COPY whose copies would not fit the quota fails and copies nothing.
  if (result === "overQuota") return no("The copies would exceed the quota", "OVERQUOTA");
  const code = `COPYUID ${result.uidValidity} ${formatSequenceSet(result.source)} ${
    formatSequenceSet(result.destination)
  }`;
  if (cmd.name === "MOVE") {
    // RFC 6851 §4.3: COPYUID goes in an untagged OK before the expunges.
    ctx.out.push(`* OK [${code}] Moved\r\n`);
    await refresh(ctx, true);
    return ok("MOVE completed");
  }
  await refresh(ctx, true);
  return ok("COPY completed", code);
}

/** EXPUNGE, UID EXPUNGE (RFC 4315 §2.1) and CLOSE's silent expunge: messages flagged \Deleted. */
export async function expunge(ctx: HandlerContext, cmd: Cmd<"EXPUNGE"> | null): Promise<Completion> {
  const view = selected(ctx);
  if (view.readOnly) return cmd ? no("The mailbox is read-only", "READ-ONLY") : ok("CLOSE completed");
  let uids = view.uids.filter((uid) => view.state(uid)?.flags.includes("\\Deleted"));
  if (cmd?.uids) {
    const allowed = new Set(view.resolve(cmd.uids, true));
    uids = uids.filter((uid) => allowed.has(uid));
  }
  if (uids.length) await ctx.backend.expunge(view.mailbox.id, uids);
  if (cmd) await refresh(ctx, true);
  return ok(
    cmd ? "EXPUNGE completed" : "CLOSE completed",
    cmd && condstore(ctx) ? `HIGHESTMODSEQ ${view.highestModseq}` : undefined,
  );
}

/**
 * What SEARCH RETURN (SAVE ...) keeps for "$" (RFC 5182 §2.1): the whole result, or only the
 * MIN and/or MAX when SAVE comes with them.
 */
export function savedResult(uids: readonly number[], options: readonly string[]): number[] {
  if (uids.length === 0 || !(options.includes("MIN") || options.includes("MAX"))) return [...uids];
  // `uids` ascend: the first is the MIN, the last the MAX.
  const kept = new Set<number>();
  if (options.includes("MIN")) kept.add(uids[0]!);
  if (options.includes("MAX")) kept.add(uids.at(-1)!);
  return [...kept];
}
