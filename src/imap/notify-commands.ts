/**
 * The NOTIFY command (RFC 5465 §3) and the responses a session with NOTIFY SET is sent when the store reports a
 * change — between commands, not only in IDLE (§4).
 */
import type { ImapCommand } from "./commands.ts";
import { bad, type Completion, type HandlerContext, no, ok, refresh } from "./context.ts";
import * as message from "./message-commands.ts";
import { notifyRefusal, NotifyWatch, SUPPORTED_EVENTS } from "./notify.ts";

export async function notify(ctx: HandlerContext, cmd: ImapCommand & { name: "NOTIFY" }): Promise<Completion> {
  if (cmd.set === null) {
    ctx.notify = null;
    return ok("NOTIFY completed");
  }
  const refusal = notifyRefusal(cmd.set);
  if (refusal && "bad" in refusal) return bad(refusal.bad);
  if (refusal) return no("Unsupported event", `BADEVENT (${SUPPORTED_EVENTS.join(" ")})`);
  // §3.1: NOTIFY SET implies NOOP for the selected mailbox.
  await refresh(ctx, true);
  const watch = new NotifyWatch(cmd.set);
  ctx.out.push(...(await watch.look(ctx, cmd.set.status)));
  ctx.notify = watch;
  return ok("NOTIFY completed");
}

/** Commands that change mailboxes. */
const WRITES = new Set<ImapCommand["name"]>([
  "APPEND",
  "STORE",
  "COPY",
  "MOVE",
  "EXPUNGE",
  "CLOSE",
  "CREATE",
  "DELETE",
  "RENAME",
  "FETCH",
]);

/** After a command: what it changed is not reported back to the session that did it (RFC 5465 §5). */
export async function afterCommand(ctx: HandlerContext, name: ImapCommand["name"]): Promise<void> {
  if (ctx.notify && WRITES.has(name)) await ctx.notify.look(ctx, false);
}

/**
 * The responses for what changed since the last look: for the selected mailbox what its SELECTED or
 * SELECTED-DELAYED group asks (EXISTS and MessageNew's fetch-att, EXPUNGE unless delayed, FETCH FLAGS with
 * FlagChange), for the others STATUS and LIST.
 */
export async function notifyUpdate(ctx: HandlerContext): Promise<Array<string | Uint8Array>> {
  const watch = ctx.notify;
  ctx.out = [];
  if (!watch) return ctx.out;
  const selected = watch.selected;
  const view = ctx.view;
  if (selected && view && selected.events.length) {
    const before = view.maxUid;
    // §6.1: SELECTED-DELAYED holds EXPUNGE back until a command that may announce it.
    await refresh(ctx, selected.filter.kind === "selected", selected.events.includes("FlagChange"));
    const added = view.uids.filter((uid) => uid > before);
    if (selected.fetch && added.length) {
      // §5.2: MessageNew's attributes for the new messages, after their EXISTS.
      await message.fetch(ctx, {
        name: "FETCH",
        tag: ctx.currentTag,
        uid: true,
        set: { saved: false, ranges: [{ start: added[0]!, end: added.at(-1)! }] },
        items: selected.fetch,
        changedSince: null,
        vanished: false,
      }, async () => {});
    }
  }
  ctx.out.push(...(await watch.changes(ctx)));
  return ctx.out;
}
