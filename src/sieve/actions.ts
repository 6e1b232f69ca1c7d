/**
 * The actions a run returns, and the rules for adding one to the list: duplicates merge (RFC 5228 §2.10.3), and
 * conflicting actions are run-time errors (RFC 5429 §2.1, RFC 5230 §4.7).
 */
import type { Position } from "./errors.ts";
import type { RunState } from "./state.ts";

export type SieveAction =
  /** Store in INBOX; `implicit` for the implicit keep (RFC 5228 §2.10.2). */
  | { type: "keep"; flags: string[]; implicit: boolean }
  | { type: "fileinto"; mailbox: string; flags: string[]; copy: boolean; create: boolean }
  | { type: "redirect"; address: string; copy: boolean }
  | { type: "reject"; reason: string; extended: boolean }
  | { type: "discard" }
  | {
    type: "vacation";
    reason: string;
    subject: string | null;
    from: string | null;
    addresses: string[];
    mime: boolean;
    handle: string;
    seconds: number;
  }
  | { type: "addheader"; name: string; value: string; last: boolean }
  | { type: "deleteheader"; name: string; index: number | null; last: boolean; values: string[] };

/** Actions that deliver the message somewhere, which reject conflicts with. */
const DELIVERING = new Set(["keep", "fileinto", "redirect"]);

export function addAction(run: RunState, pos: Position, action: SieveAction): void {
  const list = run.actions;
  const stored = (a: SieveAction) => (a.type === "keep" ? "INBOX" : a.type === "fileinto" ? a.mailbox : null);
  switch (action.type) {
    case "keep":
    case "fileinto": {
      if (list.some((a) => a.type === "reject")) run.fail(pos, `${action.type} conflicts with an earlier reject`);
      const target = stored(action);
      const same = list.find((a) => stored(a) === target);
      if (same && (same.type === "keep" || same.type === "fileinto")) {
        // RFC 5228 §2.10.3: storing twice into one mailbox stores once. RFC 5232 leaves the flags open; the last
        // store's flags are kept, as Pigeonhole does.
        same.flags = [...action.flags];
        if (action.type === "fileinto" && same.type === "fileinto") same.create ||= action.create;
        return;
      }
      break;
    }
    case "redirect":
      if (list.some((a) => a.type === "reject")) run.fail(pos, "redirect conflicts with an earlier reject");
      if (list.some((a) => a.type === "redirect" && a.address.toLowerCase() === action.address.toLowerCase())) return;
      if (list.filter((a) => a.type === "redirect").length >= run.limits.redirects) {
        run.fail(pos, `more than ${run.limits.redirects} redirects`);
      }
      break;
    case "reject":
      if (list.some((a) => a.type === "reject")) run.fail(pos, "only one reject is allowed");
      if (list.some((a) => a.type === "vacation")) run.fail(pos, "reject conflicts with vacation");
      if (list.some((a) => DELIVERING.has(a.type))) run.fail(pos, "reject conflicts with an earlier action");
      break;
    case "vacation":
      if (list.some((a) => a.type === "vacation")) run.fail(pos, "only one vacation is allowed");
      if (list.some((a) => a.type === "reject")) run.fail(pos, "vacation conflicts with reject");
      break;
    case "discard":
      if (list.some((a) => a.type === "discard")) return;
      break;
  }
  if (list.length >= run.limits.actions) run.fail(pos, `more than ${run.limits.actions} actions`);
  list.push(action);
}
