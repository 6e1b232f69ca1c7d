/**
 * Mailbox commands (RFC 9051 §6.3): SELECT/EXAMINE (with CONDSTORE/QRESYNC), CREATE, DELETE,
 * RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, APPEND.
 */
import { catenate } from "./catenate.ts";
import type { MailboxInfo } from "./backend.ts";
import type { ImapCommand } from "./commands.ts";
import {
  bad,
  claimRecent,
  type Completion,
  enableCondstore,
  findMailbox,
  type HandlerContext,
  no,
  ok,
  refresh,
  utf8,
} from "./context.ts";
import { listLine, listMailboxes, lsubMailboxes, selectOptionsError } from "./list.ts";
import { mailboxToWire } from "./mailbox-name.ts";
import { imapString } from "./response.ts";
import { formatSequenceSet } from "./sequence-set.ts";
import { MailboxView } from "./view.ts";

type Cmd<N extends ImapCommand["name"]> = ImapCommand & { name: N };

const PERMANENT_FLAGS = "\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*";

export async function select(ctx: HandlerContext, cmd: Cmd<"SELECT" | "EXAMINE">): Promise<Completion> {
  ctx.view = null; // RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected
  const mailbox = await findMailbox(ctx, cmd.mailbox);
  if (!mailbox) return no("No such mailbox", "NONEXISTENT");
  if (cmd.condstore) ctx.enabled.add("CONDSTORE");
  if (cmd.qresync && !ctx.enabled.has("QRESYNC")) return bad("QRESYNC needs ENABLE QRESYNC first");
  const messages = await ctx.backend.states(mailbox.id);
  // \Recent exists in IMAP4rev1 sessions only (RFC 9051 Appendix E removed it).
  const view = new MailboxView(mailbox, messages, cmd.name === "EXAMINE", !ctx.enabled.has("IMAP4REV2"));
  const recent = await claimRecent(ctx, view, mailbox);
  if (recent) view.addRecent(recent);
  ctx.out.push(`* ${messages.length} EXISTS\r\n`);
  // RFC 3501 §7.3.2: an IMAP4rev1 SELECT reports RECENT, zero included.
  if (view.showRecent) ctx.out.push(view.recentLine());
  ctx.out.push(
    view.flagsLine(),
    `* OK [PERMANENTFLAGS (${view.readOnly ? "" : PERMANENT_FLAGS})] Flags permitted\r\n`,
    `* OK [UIDVALIDITY ${mailbox.uidValidity}] UIDs valid\r\n`,
    `* OK [UIDNEXT ${mailbox.uidNext}] Predicted next UID\r\n`,
    // RFC 8474 §4.2: the mailbox's OBJECTID.
    `* OK [MAILBOXID (${mailbox.objectId})] Ok\r\n`,
  );
  // RFC 7162 §3.1.2.1: every successful SELECT/EXAMINE reports HIGHESTMODSEQ (every mailbox has one;
  // NOMODSEQ never applies).
  ctx.out.push(`* OK [HIGHESTMODSEQ ${mailbox.highestModseq}] Highest\r\n`);
  if (cmd.qresync && cmd.qresync.uidValidity === mailbox.uidValidity) {
    // RFC 7162 §3.2.5.1: what vanished and what changed since the client's MODSEQ.
    const changes = await ctx.backend.changesSince(mailbox.id, cmd.qresync.modseq);
    if (changes) {
      const known = cmd.qresync.knownUids;
      const vanished = changes.vanished.filter((uid) =>
        !known || known.saved || known.ranges.some((r) => uid >= r.start && uid <= r.end)
      );
      if (vanished.length) ctx.out.push(`* VANISHED (EARLIER) ${formatSequenceSet(vanished)}\r\n`);
      for (const change of changes.changed) {
        const seq = view.seqOf(change.uid);
        if (seq) {
          ctx.out.push(
            `* ${seq} FETCH (UID ${change.uid} FLAGS ${
              view.flagList(change.uid, change.flags)
            } MODSEQ (${change.modseq}))\r\n`,
          );
        }
      }
    }
  }
  ctx.view = view;
  return ok(`${cmd.name} completed`, view.readOnly ? "READ-ONLY" : "READ-WRITE");
}

export async function create(ctx: HandlerContext, cmd: Cmd<"CREATE">): Promise<Completion> {
  const name = cmd.mailbox.replace(/\/+$/, "");
  if (!name || name === "INBOX") return no("That name is taken", "ALREADYEXISTS");
  if (cmd.specialUse.length > 1) return no("One special use per mailbox", "USEATTR");
  const use = cmd.specialUse[0] ?? null;
  if (use && !["\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash", "\\All", "\\Flagged"].includes(use)) {
    return no(`${use} is not a special use`, "USEATTR");
  }
  const result = await ctx.backend.createMailbox(ctx.account, name, use);
  // RFC 8474 §4.1: CREATE answers with the new mailbox's MAILBOXID.
  return result.ok ? ok("CREATE completed", `MAILBOXID (${result.value.objectId})`) : no(result.message, result.code);
}

export async function remove(ctx: HandlerContext, cmd: Cmd<"DELETE">): Promise<Completion> {
  if (cmd.mailbox === "INBOX") return no("INBOX cannot be deleted", "CANNOT");
  const mailbox = await findMailbox(ctx, cmd.mailbox);
  if (!mailbox) return no("No such mailbox", "NONEXISTENT");
  if (ctx.view?.mailbox.id === mailbox.id) ctx.view = null;
  const result = await ctx.backend.deleteMailbox(ctx.account, mailbox.id);
  return result.ok ? ok("DELETE completed") : no(result.message, result.code);
}

export async function rename(ctx: HandlerContext, cmd: Cmd<"RENAME">): Promise<Completion> {
  const mailbox = await findMailbox(ctx, cmd.from);
  if (!mailbox) return no("No such mailbox", "NONEXISTENT");
  if (await findMailbox(ctx, cmd.to)) return no("The new name is taken", "ALREADYEXISTS");
  const result = await ctx.backend.renameMailbox(ctx.account, mailbox.id, cmd.to);
  return result.ok ? ok("RENAME completed") : no(result.message, result.code);
}

export async function subscribe(ctx: HandlerContext, cmd: Cmd<"SUBSCRIBE" | "UNSUBSCRIBE">): Promise<Completion> {
  // RFC 9051 §6.3.7: a name may be subscribed whether or not a mailbox has it (and stays so when
  // the mailbox is deleted).
  await ctx.backend.subscribe(ctx.account, cmd.mailbox, cmd.name === "SUBSCRIBE");
  return ok(`${cmd.name} completed`);
}

export async function list(ctx: HandlerContext, cmd: Cmd<"LIST">): Promise<Completion> {
  const refused = selectOptionsError(cmd.selectOptions);
  if (refused) return bad(refused);
  // RFC 9051 §6.3.9: an empty pattern asks for the hierarchy delimiter.
  if (cmd.patterns.length === 1 && cmd.patterns[0] === "" && cmd.selectOptions.length === 0) {
    ctx.out.push('* LIST (\\Noselect) "/" ""\r\n');
    return ok("LIST completed");
  }
  const all = await ctx.backend.mailboxes(ctx.account);
  const subscribed = new Set(await ctx.backend.subscriptions(ctx.account));
  const entries = listMailboxes(all, subscribed, cmd.reference, cmd.patterns, cmd.selectOptions, cmd.returnOptions);
  for (const entry of entries) {
    ctx.out.push(listLine("LIST", entry, utf8(ctx)));
    if (cmd.returnOptions.status && entry.mailbox) {
      ctx.out.push(await statusLine(ctx, entry.mailbox, cmd.returnOptions.status));
    }
  }
  return ok("LIST completed");
}

export async function lsub(ctx: HandlerContext, cmd: Cmd<"LSUB">): Promise<Completion> {
  const all = await ctx.backend.mailboxes(ctx.account);
  const subscribed = new Set(await ctx.backend.subscriptions(ctx.account));
  for (const entry of lsubMailboxes(all, subscribed, cmd.reference, cmd.pattern)) {
    ctx.out.push(listLine("LSUB", entry, utf8(ctx)));
  }
  return ok("LSUB completed");
}

const STATUS_ITEMS = new Set([
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "SIZE",
  "HIGHESTMODSEQ",
  "RECENT",
  "MAILBOXID",
  "DELETED-STORAGE",
]);

async function statusLine(ctx: HandlerContext, mailbox: MailboxInfo, items: readonly string[]): Promise<string> {
  const counts = await ctx.backend.status(mailbox.id);
  // RFC 3501 §6.3.10: the messages no session has been shown as \Recent yet.
  const recent = items.includes("RECENT") ? await ctx.backend.unclaimedRecent(mailbox) : 0;
  // RFC 9208 §4.2: what EXPUNGE would free, in the STORAGE resource's units of 1024 octets.
  const deletedBytes = items.includes("DELETED-STORAGE")
    ? (await ctx.backend.messages(mailbox.id)).filter((m) => m.flags.includes("\\Deleted"))
      .reduce((sum, m) => sum + m.size, 0)
    : 0;
  const values: Record<string, number> = {
    MESSAGES: counts.messages,
    UIDNEXT: mailbox.uidNext,
    UIDVALIDITY: mailbox.uidValidity,
    UNSEEN: counts.unseen,
    DELETED: counts.deleted,
    SIZE: counts.size,
    HIGHESTMODSEQ: mailbox.highestModseq,
    RECENT: recent,
    "DELETED-STORAGE": Math.ceil(deletedBytes / 1024),
  };
  // RFC 8474 §4.3: MAILBOXID is an objectid in parentheses.
  const pairs = items.map((item) =>
    item === "MAILBOXID" ? `MAILBOXID (${mailbox.objectId})` : `${item} ${values[item]}`
  )
    .join(" ");
  return `* STATUS ${imapString(mailboxToWire(mailbox.name, utf8(ctx)), utf8(ctx))} (${pairs})\r\n`;
}

export async function status(ctx: HandlerContext, cmd: Cmd<"STATUS">): Promise<Completion> {
  const unknown = cmd.items.find((i) => !STATUS_ITEMS.has(i));
  if (unknown) return bad(`Unknown STATUS item ${unknown}`);
  const mailbox = await findMailbox(ctx, cmd.mailbox);
  if (!mailbox) return no("No such mailbox", "NONEXISTENT");
  if (cmd.items.includes("HIGHESTMODSEQ")) enableCondstore(ctx);
  ctx.out.push(await statusLine(ctx, mailbox, cmd.items));
  return ok("STATUS completed");
}

export async function append(ctx: HandlerContext, cmd: Cmd<"APPEND">): Promise<Completion> {
  const mailbox = await findMailbox(ctx, cmd.mailbox);
  if (!mailbox) return no("No such mailbox", "TRYCREATE");
  const messages: Array<{ message: Uint8Array; flags: string[]; date: Date | null }> = [];
  for (const m of cmd.messages) {
    let message: Uint8Array;
    if (Array.isArray(m.message)) {
      // CATENATE (RFC 4469 §3): the parts are put together before anything is stored.
      const made = await catenate(ctx, m.message, ctx.maxMessageSize);
      if (!made.ok) return made.completion;
      message = made.message;
    } else message = m.message;
    if (message.length === 0) return no("Empty message");
    messages.push({ message, date: m.date, flags: m.flags.filter((f) => f !== "\\Recent") });
  }
  // MULTIAPPEND (RFC 3502 §3): all the messages are stored, or none.
  const result = await ctx.backend.append(ctx.account, mailbox.id, messages);
  if (!result.ok) return no(result.message, result.code);
  // The new messages show up as EXISTS at once when they went into the selected mailbox.
  if (ctx.view?.mailbox.id === mailbox.id) await refresh(ctx, true);
  return ok("APPEND completed", `APPENDUID ${result.value.uidValidity} ${formatSequenceSet(result.value.uids)}`);
}
