/**
 * JMAP submission (RFC 8621 §6-7): Identity/get (the account's own address) and
 * EmailSubmission/set, which sends a stored Email through the same path as SMTP submission —
 * local recipients get it at once, the rest go through the outbound queue.
 */
import type { Deliverer } from "../../deliver/deliverer.ts";
import type { Store } from "../../store/store.ts";
import { accountJmapId, accountState, checkAccount, type JmapAccount, parseId } from "./mailbox.ts";
import { MethodError } from "./request.ts";

export const SUBMISSION = "urn:ietf:params:jmap:submission";

interface Submission {
  id: string;
  identityId: string;
  emailId: string;
  envelope: { mailFrom: { email: string }; rcptTo: Array<{ email: string }> };
  sendAt: string;
  undoStatus: "final";
  deliveryStatus: null;
}

/**
 * Sent submissions of this process, for EmailSubmission/get (they are final at once), per store
 * and account: two embedded instances, or two accounts, never see each other's.
 */
const sentByStore = new WeakMap<Store, Map<number, Map<string, Submission>>>();
let next = 1;

function sentOf(store: Store, accountId: number): Map<string, Submission> {
  let accounts = sentByStore.get(store);
  if (!accounts) sentByStore.set(store, accounts = new Map());
  let sent = accounts.get(accountId);
  if (!sent) accounts.set(accountId, sent = new Map());
  return sent;
}

export function submissionMethods(
  store: Store,
  account: JmapAccount,
  deliverer: Deliverer,
  emailSet: (args: Record<string, unknown>) => Promise<Record<string, unknown>>,
) {
  const identityId = "I1";
  const sent = sentOf(store, account.id);
  return {
    async "Identity/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return {
        accountId: accountJmapId(account.id),
        state: "0",
        notFound: [],
        list: [{
          id: identityId,
          name: "",
          email: account.address,
          replyTo: null,
          bcc: null,
          textSignature: "",
          htmlSignature: "",
          mayDelete: false,
        }],
      };
    },

    async "EmailSubmission/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const ids = Array.isArray(args.ids) ? (args.ids as string[]) : [...sent.keys()];
      const list = ids.map((id) => sent.get(id)).filter((s): s is Submission => s !== undefined);
      return {
        accountId: accountJmapId(account.id),
        state: await accountState(store, account),
        list,
        notFound: ids.filter((id) => !sent.has(id)),
      };
    },

    async "EmailSubmission/set"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      const created: Record<string, { id: string; sendAt: string; undoStatus: string }> = {};
      const notCreated: Record<string, { type: string; description?: string }> = {};
      for (const [key, spec] of Object.entries((args.create as Record<string, Record<string, unknown>>) ?? {})) {
        if (spec.identityId !== identityId) {
          notCreated[key] = { type: "invalidProperties", description: "identityId" };
          continue;
        }
        const number = parseId("M", spec.emailId);
        const [email] = number ? await store.emails.get(account.id, [number]) : [];
        if (!email) {
          notCreated[key] = { type: "invalidProperties", description: "emailId" };
          continue;
        }
        const { summary } = email;
        const envelope = spec.envelope as Submission["envelope"] | undefined;
        const rcptTo = envelope?.rcptTo ??
          [...summary.to, ...summary.cc, ...summary.bcc].map((a) => ({ email: a.email }));
        const mailFrom = envelope?.mailFrom?.email ?? account.address;
        if (mailFrom.toLowerCase() !== account.address.toLowerCase()) {
          notCreated[key] = { type: "forbiddenMailFrom", description: `Only ${account.address} may be used` };
          continue;
        }
        if (rcptTo.length === 0) {
          notCreated[key] = { type: "noRecipients" };
          continue;
        }
        const raw = await store.emails.readBlob(email.blobHash);
        if (!raw) {
          notCreated[key] = { type: "invalidProperties", description: "emailId" };
          continue;
        }
        await deliverer.deliver({
          sender: mailFrom,
          recipients: rcptTo.map((r) => ({ address: r.email })),
          raw,
          accountId: account.id,
          authenticatedAs: account.address,
          inbound: false,
          remoteIp: "127.0.0.1",
          helo: "jmap",
        });
        const id = `S${next++}`;
        const submission: Submission = {
          id,
          identityId,
          emailId: String(spec.emailId),
          envelope: { mailFrom: { email: mailFrom }, rcptTo },
          sendAt: new Date().toISOString(),
          undoStatus: "final",
          deliveryStatus: null,
        };
        sent.set(id, submission);
        created[key] = { id, sendAt: submission.sendAt, undoStatus: "final" };
      }
      // RFC 8621 §7.5: onSuccessUpdateEmail patches the submitted emails, e.g. out of Drafts into Sent.
      const updates: Record<string, unknown> = {};
      for (const [ref, patch] of Object.entries((args.onSuccessUpdateEmail as Record<string, unknown>) ?? {})) {
        const key = ref.startsWith("#") ? ref.slice(1) : null;
        const emailId = key && created[key] ? sent.get(created[key].id)!.emailId : ref;
        updates[emailId] = patch;
      }
      if (Object.keys(args.update ?? {}).length || (args.destroy as unknown[] | undefined)?.length) {
        throw new MethodError("invalidArguments", "Sent submissions are final; they cannot be updated or destroyed");
      }
      const emailResponse = Object.keys(updates).length
        ? await emailSet({ accountId: accountJmapId(account.id), update: updates })
        : null;
      return {
        accountId: accountJmapId(account.id),
        oldState,
        newState: await accountState(store, account),
        created,
        notCreated,
        ...(emailResponse ? { emailSetResponse: emailResponse } : {}),
      };
    },
  };
}
