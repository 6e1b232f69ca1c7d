/**
 * Sieve at local delivery (issue 21): for each local account with an active script, runs it on the message (after
 * the policy pipeline) and turns its actions into where the store files the copy (as editheader left it), the
 * addresses it is redirected to (queued like forwarded mail, with an SRS sender), vacation replies (RFC 5230, RFC 3834
 * rules in vacation.ts) and rejections (RFC 5429: the SMTP reply when possible, else a notice, sieve-reject.ts).
 * A script that fails to compile or run never loses mail: the copy is kept in INBOX, and the account is told once.
 * What the runs leave (vacation replies sent, duplicate ids) is recorded in the delivery's own transaction.
 */
import { parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import { summarize } from "../mime/summary.ts";
import { messageView, runScript, type SieveAction, type SieveMessage, type SieveResult } from "../sieve/index.ts";
import { VACATION_SCRIPT } from "../sieve/vacation-response.ts";
import type { NewQueueEntry } from "../store/queue.ts";
import type { SieveFiling, SieveRecords } from "../store/sieve-delivery.ts";
import type { Store } from "../store/store.ts";
import { log } from "../util/log.ts";
import { VERSION } from "../util/version.ts";
import type { EnvelopeRecipient } from "./deliverer.ts";
import type { Directory } from "./directory.ts";
import { editedMessage } from "./sieve-edit.ts";
import { compileCached, duplicateKey, scriptLookups } from "./sieve-lookups.ts";
import { NOTICE_HANDLE, NOTICE_SECONDS, noticeKey, scriptErrorNotice } from "./sieve-notice.ts";
import { policyResults } from "./sieve-policy.ts";
import { rejectionNotice, rejectReplyText } from "./sieve-reject.ts";
import { vacationReply, vacationSkipReason } from "./vacation.ts";

/** The envelope recipient that reached this account directly (with its +detail), else the account's address. */
async function recipientFor(
  directory: Directory,
  recipients: readonly EnvelopeRecipient[],
  target: { accountId: number; address: string },
): Promise<string> {
  for (const r of recipients) {
    const resolved = await directory.resolve(r.address);
    if (resolved.kind === "account" && resolved.accountId === target.accountId) return r.address;
  }
  return target.address;
}

export interface SieveOptions {
  hostname: string;
  /** RFC 5233 subaddress separator (delivery.recipientDelimiter); "" turns subaddresses off. */
  separator?: string;
  /** sieve.globalDir: where `include :global` finds `<name>.sieve`. */
  globalDir?: string;
  /** RFC 5429 §2.1.1: the message is still in the SMTP transaction, for this one recipient only. */
  smtpReject?: boolean;
  /** The policy verdict's header lines, for spamtest and virustest (sieve-policy.ts). */
  policyHeaders?: readonly string[];
}

export interface SieveOutcome {
  /** Where each account's copy goes, for the accounts that have an active script. */
  filings: Map<number, SieveFiling>;
  /** RFC 5228 §4.2: redirects, each address once; `raw` when editheader changed that account's copy. */
  redirects: Array<{ addresses: string[]; raw?: Uint8Array }>;
  /** Vacation replies and rejection notices, to queue with the delivery (null sender, their own content). */
  replies: Array<NewQueueEntry & { raw: Uint8Array }>;
  records: SieveRecords;
  /** RFC 5429: the script rejected the message while it is still in the transaction: the 550 reply's lines. */
  refusal: string[] | null;
}

type Message = {
  raw: Uint8Array;
  sender: string;
  recipients: readonly EnvelopeRecipient[];
  junk?: boolean;
  envid?: string;
  ret?: "FULL" | "HDRS";
};

export async function sieveFilings(
  store: Store,
  directory: Directory,
  local: readonly { accountId: number; address: string }[],
  message: Message,
  options: SieveOptions,
): Promise<SieveOutcome> {
  const { hostname } = options;
  const filings = new Map<number, SieveFiling>();
  /** By lower-cased address; a local part's case is kept as written (RFC 5321 §2.4). */
  const redirects = new Map<string, string>();
  const edited: SieveOutcome["redirects"] = [];
  const replies: SieveOutcome["replies"] = [];
  const records: SieveRecords = { vacations: [], duplicates: [] };
  const policy = policyResults(options.policyHeaders);
  const junk = message.junk === true;
  const now = new Date();
  let headers: ReturnType<typeof parseHeaderFields> | undefined;
  for (const target of local) {
    if (!(await store.sieve.hasScripts(target.accountId))) continue;
    const scripts = await store.sieve.scripts(target.accountId);
    const managed = scripts.find((x) => x.name === VACATION_SCRIPT && !x.active);
    // Without an active script, the managed VacationResponse script (if any) runs alone.
    const active = scripts.find((x) => x.active) ?? managed;
    if (!active) continue;
    /** Tracked values (RFC 7352 and the notices below), read only for scripts that may need them. */
    let seen: Set<string> | undefined;
    const tracked = async () => (seen ??= await store.sieve.duplicates(target.accountId, now));
    /** The account is told of a failure once per script content and error (sieve-notice.ts). */
    const failed = async (error: string, compile: boolean): Promise<SieveFiling["notice"]> => {
      log.warn(`sieve script ${compile ? "does not compile" : "failed"}; kept in INBOX`, {
        account: target.address,
        error,
      });
      const hash = noticeKey(active.content, error);
      if ((await tracked()).has(`${NOTICE_HANDLE}\u0000${hash}`)) return undefined;
      const expiresAt = new Date(now.getTime() + NOTICE_SECONDS * 1000);
      records.duplicates.push({ accountId: target.accountId, handle: NOTICE_HANDLE, hash, expiresAt });
      const raw = scriptErrorNotice({ account: target.address, script: active.name, error, compile }, hostname, now);
      return { raw, summary: await summarize(raw) };
    };
    const { script, error } = compileCached(active.content);
    if (!script) {
      const notice = await failed(error ?? "", true);
      filings.set(target.accountId, { destinations: [{ mailbox: null, flags: [], create: false }], notice });
      continue;
    }
    const names = script.capabilities.has("mailbox")
      ? new Set((await store.mailboxes.list(target.accountId)).map((m) => m.name))
      : new Set<string>();
    const to = await recipientFor(directory, message.recipients, target);
    const view = messageView(message.raw, { from: message.sender, to });
    // An included script may use duplicate without the including one requiring it.
    const known = script.capabilities.has("duplicate") || script.capabilities.has("include")
      ? await tracked()
      : new Set<string>();
    const periods = new Map<string, number>();
    const result = runScript(script, view, {
      items: { domain: hostname, host: hostname, name: "Postern", version: VERSION, phase: "during" },
      mailboxExists: (name) => name.toUpperCase() === "INBOX" || names.has(name),
      separator: options.separator,
      ...policy,
      ...scriptLookups(scripts, script, options.globalDir),
      duplicate(key, seconds) {
        periods.set(key, seconds);
        const { handle, hash } = duplicateKey(key);
        return known.has(`${handle}\u0000${hash}`);
      },
    });
    const notice = result.error ? await failed(result.error.message, false) : undefined;
    for (const key of result.duplicates) {
      const expiresAt = new Date(now.getTime() + (periods.get(key) ?? 7 * 86_400) * 1000);
      records.duplicates.push({ accountId: target.accountId, ...duplicateKey(key), expiresAt });
    }
    const reject = result.actions.find((a) => a.type === "reject");
    if (reject) {
      log.info("sieve reject", { account: target.address, from: message.sender, smtp: options.smtpReject === true });
      // RFC 5429 §2.1.1: refused in the transaction when it is this recipient's alone; nothing is recorded then.
      if (options.smtpReject) {
        return { filings, redirects: [], replies: [], records, refusal: rejectReplyText(reject.reason) };
      }
      const notice = rejectionNotice({ recipient: to, ...reject }, { ...message, junk }, hostname, now);
      if (notice) replies.push({ ...notice, accountId: target.accountId });
    }
    for (
      const action of [...result.actions, ...managedVacation(result, active === managed ? undefined : managed, view)]
    ) {
      if (action.type !== "vacation") continue;
      headers ??= parseHeaderFields(message.raw.subarray(0, splitHeaderBody(message.raw).headerEnd));
      const ctx = { action, account: target.address, recipient: to, sender: message.sender, headers, junk };
      const skip = vacationSkipReason(ctx);
      if (skip) log.info("sieve vacation: no reply", { account: target.address, to: message.sender, reason: skip });
      else if (
        !(await store.sieve.vacationSentWithin(target.accountId, action.handle, message.sender, action.seconds, now))
      ) {
        replies.push({
          sender: "",
          accountId: target.accountId,
          recipients: [{ address: message.sender }],
          raw: vacationReply(ctx, hostname, now),
        });
        records.vacations.push({
          accountId: target.accountId,
          handle: action.handle,
          sender: message.sender,
          sentAt: now,
        });
        log.info("sieve vacation: reply", { account: target.address, to: message.sender });
      }
    }
    const raw = result.headers ? editedMessage(message.raw, view, result.headers) : null;
    filings.set(target.accountId, {
      ...filing(result.actions, target.address, junk),
      ...(raw ? { edited: { raw, summary: await summarize(raw) } } : {}),
      notice,
    });
    addRedirects(result, junk, raw, redirects, edited);
  }
  const plain = [...redirects.values()];
  return {
    filings,
    redirects: [...(plain.length ? [{ addresses: plain }] : []), ...edited],
    replies,
    records,
    refusal: null,
  };
}

/**
 * RFC 8621 §8 as a managed script (src/sieve/vacation-response.ts): when the account's active script is another one,
 * the VacationResponse still answers, as if that script included it, unless the script failed, rejected the message
 * or sends a vacation reply of its own (RFC 5230 §4.7: one per message).
 */
function managedVacation(result: SieveResult, managed: { content: string } | undefined, view: SieveMessage) {
  if (!managed || result.error || result.actions.some((a) => a.type === "vacation" || a.type === "reject")) return [];
  const { script } = compileCached(managed.content);
  if (!script) return [];
  const run = runScript(script, view, {});
  return run.actions.filter((a) => a.type === "vacation");
}

/** Junk is not sent on (issue 19): it would spend this server's reputation; the copy is kept instead. */
function addRedirects(
  result: SieveResult,
  junk: boolean,
  raw: Uint8Array | null,
  plain: Map<string, string>,
  edited: SieveOutcome["redirects"],
): void {
  if (junk) return;
  const addresses = result.actions.flatMap((a) => (a.type === "redirect" ? [a.address] : []));
  // RFC 5293 §2: a redirected copy carries the edits too.
  if (raw) {
    if (addresses.length) edited.push({ addresses, raw });
    return;
  }
  for (const a of addresses) if (!plain.has(a.toLowerCase())) plain.set(a.toLowerCase(), a);
}

/** Keep and fileinto become destinations; reject and discard store nothing; a redirect of junk keeps instead. */
function filing(actions: readonly SieveAction[], account: string, junk: boolean): SieveFiling {
  const destinations: SieveFiling["destinations"] = [];
  let keepInstead = false;
  for (const a of actions) {
    if (a.type === "keep") destinations.push({ mailbox: null, flags: a.flags, create: false });
    else if (a.type === "fileinto") destinations.push({ mailbox: a.mailbox, flags: a.flags, create: a.create });
    else if (a.type === "redirect" && junk) {
      log.info("sieve redirect of junk not carried out; kept", { account, to: a.address });
      keepInstead = true;
    }
  }
  if (keepInstead && !destinations.some((d) => d.mailbox === null)) {
    destinations.push({ mailbox: null, flags: [], create: false });
  }
  return { destinations };
}
