/**
 * Sieve at local delivery (issue 21): for each local account with an active script, runs it on the message (after
 * the policy pipeline) and turns its actions into where the store files the copy and the addresses it is redirected
 * to (queued like forwarded mail, with an SRS sender). A script that fails to compile or run, or an action not carried
 * out at delivery yet (reject, editheader), never loses mail: the copy is kept in INBOX and the reason logged.
 * Vacation replies (RFC 5230, RFC 3834 rules in vacation.ts) go once per sender and period, recorded in the store.
 */
import { parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import { compileSieve, messageView, runScript, type SieveAction, type ValidScript } from "../sieve/index.ts";
import type { NewQueueEntry } from "../store/queue.ts";
import type { SieveFiling } from "../store/sieve-delivery.ts";
import type { Store } from "../store/store.ts";
import { log } from "../util/log.ts";
import { VERSION } from "../util/version.ts";
import type { EnvelopeRecipient } from "./deliverer.ts";
import type { Directory } from "./directory.ts";
import { vacationReply, vacationSkipReason } from "./vacation.ts";

const compiled = new Map<string, ValidScript | null>();
const COMPILED_MAX = 256;

function compile(content: string, account: string): ValidScript | null {
  const hit = compiled.get(content);
  if (hit !== undefined) return hit;
  const r = compileSieve(content);
  if (!r.ok) log.warn("sieve script does not compile; kept in INBOX", { account, error: r.error.message });
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  compiled.set(content, r.ok ? r.script : null);
  return r.ok ? r.script : null;
}

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

export interface SieveOutcome {
  /** Where each account's copy goes, for the accounts that have an active script. */
  filings: Map<number, SieveFiling>;
  /** RFC 5228 §4.2: addresses the message is redirected to, once each. */
  redirects: string[];
  /** RFC 5230 vacation replies due, to queue with the delivery (null sender, their own content). */
  replies: Array<NewQueueEntry & { raw: Uint8Array }>;
}

export async function sieveFilings(
  store: Store,
  directory: Directory,
  local: readonly { accountId: number; address: string }[],
  message: { raw: Uint8Array; sender: string; recipients: readonly EnvelopeRecipient[]; junk?: boolean },
  hostname: string,
): Promise<SieveOutcome> {
  const filings = new Map<number, SieveFiling>();
  /** By lower-cased address; a local part's case is kept as written (RFC 5321 §2.4). */
  const redirects = new Map<string, string>();
  const replies: SieveOutcome["replies"] = [];
  let headers: ReturnType<typeof parseHeaderFields> | undefined;
  for (const target of local) {
    const active = await store.sieve.active(target.accountId);
    if (!active) continue;
    const script = compile(active.content, target.address);
    if (!script) continue;
    const names = script.capabilities.has("mailbox")
      ? new Set((await store.mailboxes.list(target.accountId)).map((m) => m.name))
      : new Set<string>();
    const to = await recipientFor(directory, message.recipients, target);
    const result = runScript(script, messageView(message.raw, { from: message.sender, to }), {
      items: { domain: hostname, host: hostname, name: "Postern", version: VERSION, phase: "during" },
      mailboxExists: (name) => name.toUpperCase() === "INBOX" || names.has(name),
    });
    if (result.error) {
      log.warn("sieve script failed; kept in INBOX", { account: target.address, error: result.error.message });
    }
    const junk = message.junk === true;
    for (const action of result.actions) {
      if (action.type !== "vacation") continue;
      headers ??= parseHeaderFields(message.raw.subarray(0, splitHeaderBody(message.raw).headerEnd));
      const ctx = { action, account: target.address, recipient: to, sender: message.sender, headers, junk };
      const skip = vacationSkipReason(ctx);
      if (skip) log.info("sieve vacation: no reply", { account: target.address, to: message.sender, reason: skip });
      else if (await store.sieve.vacationDue(target.accountId, action.handle, message.sender, action.seconds)) {
        replies.push({
          sender: "",
          accountId: target.accountId,
          recipients: [{ address: message.sender }],
          raw: vacationReply(ctx, hostname),
        });
        log.info("sieve vacation: reply", { account: target.address, to: message.sender });
      }
    }
    filings.set(target.accountId, filing(result.actions, target.address, junk));
    // Junk is not sent on (issue 19): it would spend this server's reputation; the copy is kept instead.
    for (const a of result.actions) {
      if (a.type === "redirect" && !junk && !redirects.has(a.address.toLowerCase())) {
        redirects.set(a.address.toLowerCase(), a.address);
      }
    }
  }
  return { filings, redirects: [...redirects.values()], replies };
}

/** Keep and fileinto become destinations; the actions delivery does not carry out yet keep the message instead. */
function filing(actions: readonly SieveAction[], account: string, junk: boolean): SieveFiling {
  const destinations: SieveFiling["destinations"] = [];
  let keepInstead = false;
  for (const a of actions) {
    if (a.type === "keep") destinations.push({ mailbox: null, flags: a.flags, create: false });
    else if (a.type === "fileinto") destinations.push({ mailbox: a.mailbox, flags: a.flags, create: a.create });
    else if (a.type === "reject") {
      log.warn("sieve reject is not carried out at delivery yet; kept in INBOX", { account });
      keepInstead = true;
    } else if (a.type === "redirect" && junk) {
      log.info("sieve redirect of junk not carried out; kept", { account, to: a.address });
      keepInstead = true;
    } else if (a.type !== "discard" && a.type !== "redirect" && a.type !== "vacation") {
      log.info(`sieve ${a.type} is not carried out at delivery yet`, { account });
    }
  }
  if (keepInstead && !destinations.some((d) => d.mailbox === null)) {
    destinations.push({ mailbox: null, flags: [], create: false });
  }
  return { destinations };
}
