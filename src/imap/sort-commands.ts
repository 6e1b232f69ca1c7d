/**
 * SORT and THREAD (RFC 5256), with ESORT's RETURN options (RFC 5267 §3): the SEARCH key picks
 * the messages, `sort.ts` and `thread.ts` order them.
 */
import type { ImapCommand } from "./commands.ts";
import { bad, type Completion, enableCondstore, type HandlerContext, no, ok, refresh } from "./context.ts";
import { keepContext, partialItem, resultOptions } from "./search-context.ts";
import { matching, usesModseq } from "./search-run.ts";
import { sortMessages } from "./sort.ts";
import { formatThreads, orderedSubject, references } from "./thread.ts";

type Cmd<N extends ImapCommand["name"]> = ImapCommand & { name: N };

const CHARSETS = ["UTF-8", "US-ASCII"];

export async function sort(ctx: HandlerContext, cmd: Cmd<"SORT">): Promise<Completion> {
  if (!CHARSETS.includes(cmd.charset)) return no("Supported charsets: UTF-8, US-ASCII", "BADCHARSET (UTF-8 US-ASCII)");
  const view = ctx.view!;
  const update = cmd.returnOptions?.includes("UPDATE") ?? false;
  // RFC 5267 §4.3: a tag still naming an updating search cannot name another.
  if (update && view.contexts.has(cmd.tag)) return bad("Tag reuse: an UPDATE search already has this tag");
  const modseq = usesModseq(cmd.key);
  if (modseq) enableCondstore(ctx);
  const found = sortMessages(await matching(ctx, cmd.key), cmd.criteria);
  const numbers = found.map((m) => cmd.uid ? m.uid : view.seqOf(m.uid));
  const highest = found.reduce((max, m) => Math.max(max, m.modseq), 0);
  if (cmd.returnOptions === null) {
    const tail = modseq && found.length ? ` (MODSEQ ${highest})` : "";
    ctx.out.push(`* SORT${numbers.map((n) => ` ${n}`).join("")}${tail}\r\n`);
  } else {
    // RFC 5267 §3.2: MIN and MAX are the first and last in sort order; ALL keeps the order.
    const options = resultOptions(cmd.returnOptions);
    if (update) {
      const result = found.map((m) => m.uid);
      ctx.out.push(...keepContext(ctx, { tag: cmd.tag, uid: cmd.uid, key: cmd.key, criteria: cmd.criteria, result }));
    }
    const parts: string[] = [];
    if (options.includes("MIN") && numbers.length) parts.push(`MIN ${numbers[0]}`);
    if (options.includes("MAX") && numbers.length) parts.push(`MAX ${numbers.at(-1)}`);
    if (options.includes("ALL") && numbers.length) parts.push(`ALL ${orderedSet(numbers)}`);
    if (options.includes("COUNT")) parts.push(`COUNT ${numbers.length}`);
    if (cmd.partial) parts.push(partialItem(numbers, cmd.partial));
    if (modseq && found.length) parts.push(`MODSEQ ${highest}`);
    ctx.out.push(
      `* ESEARCH (TAG "${ctx.currentTag}")${cmd.uid ? " UID" : ""}${parts.length ? ` ${parts.join(" ")}` : ""}\r\n`,
    );
  }
  await refresh(ctx, cmd.uid);
  return ok("SORT completed");
}

export async function thread(ctx: HandlerContext, cmd: Cmd<"THREAD">): Promise<Completion> {
  if (!CHARSETS.includes(cmd.charset)) return no("Supported charsets: UTF-8, US-ASCII", "BADCHARSET (UTF-8 US-ASCII)");
  const view = ctx.view!;
  const found = await matching(ctx, cmd.key);
  const threads = cmd.algorithm === "REFERENCES" ? references(found) : orderedSubject(found);
  const list = formatThreads(threads, (m) => cmd.uid ? m.uid : view.seqOf(m.uid));
  ctx.out.push(`* THREAD${list ? ` ${list}` : ""}\r\n`);
  await refresh(ctx, cmd.uid);
  return ok("THREAD completed");
}

/** A sequence set that keeps the order of `numbers`, joining ascending runs: 5,3,1:2 (RFC 5267 §3.2). */
export function orderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j > i ? `${numbers[i]}:${numbers[j]}` : String(numbers[i]));
    i = j + 1;
  }
  return parts.join(",");
}
