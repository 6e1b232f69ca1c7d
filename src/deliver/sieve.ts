/**
 * Sieve at local delivery (issue 21): for each local account with an active script, runs it on the message (after
 * the policy pipeline) and turns its actions into where the store files the copy. A script that fails to compile or
 * run, or an action not carried out at delivery yet (redirect, reject, vacation, editheader), never loses mail: the
 * copy is kept in INBOX and the reason logged.
 */
import { compileSieve, messageView, runScript, type SieveAction, type ValidScript } from "../sieve/index.ts";
import type { SieveFiling } from "../store/sieve-delivery.ts";
import type { Store } from "../store/store.ts";
import { log } from "../util/log.ts";
import { VERSION } from "../util/version.ts";
import type { EnvelopeRecipient } from "./deliverer.ts";
import type { Directory } from "./directory.ts";

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

export async function sieveFilings(
  store: Store,
  directory: Directory,
  local: readonly { accountId: number; address: string }[],
  message: { raw: Uint8Array; sender: string; recipients: readonly EnvelopeRecipient[] },
  hostname: string,
): Promise<Map<number, SieveFiling>> {
  const filings = new Map<number, SieveFiling>();
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
    filings.set(target.accountId, filing(result.actions, target.address));
  }
  return filings;
}

/** Keep and fileinto become destinations; the actions delivery does not carry out yet keep the message instead. */
function filing(actions: readonly SieveAction[], account: string): SieveFiling {
  const destinations: SieveFiling["destinations"] = [];
  let keepInstead = false;
  for (const a of actions) {
    if (a.type === "keep") destinations.push({ mailbox: null, flags: a.flags, create: false });
    else if (a.type === "fileinto") destinations.push({ mailbox: a.mailbox, flags: a.flags, create: a.create });
    else if (a.type === "redirect" || a.type === "reject") {
      log.warn(`sieve ${a.type} is not carried out at delivery yet; kept in INBOX`, { account });
      keepInstead = true;
    } else if (a.type !== "discard") log.info(`sieve ${a.type} is not carried out at delivery yet`, { account });
  }
  if (keepInstead && !destinations.some((d) => d.mailbox === null)) {
    destinations.push({ mailbox: null, flags: [], create: false });
  }
  return { destinations };
}
