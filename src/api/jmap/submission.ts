/**
 * JMAP submission (RFC 8621 §6-7): Identity/get (the account's own address) and
 * EmailSubmission/set, which sends a stored Email through the same path as SMTP submission —
 * local recipients get it at once, the rest go through the outbound queue.
 */
import { type Deliverer, DeliveryRefused } from "../../deliver/deliverer.ts";
import type { Store } from "../../store/store.ts";
import { accountJmapId, accountState, checkAccount, type JmapAccount } from "./mailbox.ts";
import { type CallContext, type Method, MethodError, WithImplicit } from "./request.ts";
import {
  type Envelope,
  idList,
  objectArgument,
  type Planned,
  planSubmission,
  type SetError,
} from "./submission-plan.ts";

export const SUBMISSION = "urn:ietf:params:jmap:submission";

interface Submission {
  id: string;
  identityId: string;
  emailId: string;
  threadId: string;
  envelope: Envelope;
  sendAt: string;
  undoStatus: "final";
  deliveryStatus: null;
  dsnBlobIds: string[];
  mdnBlobIds: string[];
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
  emailSet: Method,
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

    /**
     * RFC 8621 §7.5. The whole call is checked before anything is sent: the arguments, each
     * create (identity, email, envelope) and each update or destroy; then each valid create is
     * handed to delivery, and onSuccessUpdateEmail / onSuccessDestroyEmail run as an implicit
     * Email/set whose response follows this one.
     */
    async "EmailSubmission/set"(args: Record<string, unknown>, context: CallContext) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== oldState) {
        throw new MethodError("stateMismatch");
      }
      const create = objectArgument(args, "create");
      const update = objectArgument(args, "update");
      const destroy = idList(args, "destroy");
      const onUpdate = objectArgument(args, "onSuccessUpdateEmail");
      const onDestroy = idList(args, "onSuccessDestroyEmail");
      for (const [ref, patch] of Object.entries(onUpdate)) {
        if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
          throw new MethodError("invalidArguments", `onSuccessUpdateEmail/${ref} is not a patch`);
        }
      }
      for (const ref of [...Object.keys(onUpdate), ...onDestroy]) {
        if (ref.startsWith("#") ? !(ref.slice(1) in create) : !sent.has(ref)) {
          throw new MethodError("invalidArguments", `${ref} names no EmailSubmission of this call`);
        }
      }

      const notCreated: Record<string, SetError> = {};
      const planned: Array<{ key: string; plan: Planned }> = [];
      for (const [key, spec] of Object.entries(create)) {
        const plan = await planSubmission(store, account, identityId, spec, context);
        if ("type" in plan) notCreated[key] = plan;
        else planned.push({ key, plan });
      }
      // Sent submissions are final (undoStatus "final" from the start): none can be canceled.
      const notUpdated: Record<string, SetError> = {};
      for (const [id, patch] of Object.entries(update)) {
        notUpdated[id] = !sent.has(id)
          ? { type: "notFound" }
          : (patch as Record<string, unknown>)?.undoStatus === "canceled"
          ? { type: "cannotUnsend", description: "The message was sent already" }
          : {
            type: "invalidProperties",
            description: "Only undoStatus can change",
            properties: Object.keys(patch ?? {}),
          };
      }
      const destroyed: string[] = [];
      const notDestroyed: Record<string, SetError> = {};
      for (const id of destroy) if (!sent.has(id)) notDestroyed[id] = { type: "notFound" };

      const created: Record<string, { id: string; sendAt: string; undoStatus: string }> = {};
      for (const { key, plan } of planned) {
        try {
          await deliverer.deliver({
            sender: plan.envelope.mailFrom.email,
            recipients: plan.envelope.rcptTo.map((r) => ({ address: r.email })),
            raw: plan.raw,
            accountId: account.id,
            authenticatedAs: account.address,
            inbound: false,
            remoteIp: "127.0.0.1",
            helo: "jmap",
          });
        } catch (e) {
          if (!(e instanceof DeliveryRefused)) throw e;
          notCreated[key] = { type: "forbiddenToSend", description: e.message };
          continue;
        }
        const id = `S${next++}`;
        const submission: Submission = {
          id,
          identityId,
          emailId: plan.emailId,
          threadId: plan.threadId,
          envelope: plan.envelope,
          sendAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
          undoStatus: "final",
          deliveryStatus: null,
          dsnBlobIds: [],
          mdnBlobIds: [],
        };
        sent.set(id, submission);
        created[key] = { id, sendAt: submission.sendAt, undoStatus: "final" };
      }
      // Destroying a submission forgets it; the message stays sent.
      const emailOfDestroyed = new Map<string, string>();
      for (const id of destroy) {
        if (notDestroyed[id]) continue;
        emailOfDestroyed.set(id, sent.get(id)!.emailId);
        sent.delete(id);
        destroyed.push(id);
      }

      // RFC 8621 §7.5: keys are EmailSubmission ids (or #creation ids) whose create/update/destroy succeeded.
      const emailOf = (ref: string) => {
        if (ref.startsWith("#")) {
          const made = created[ref.slice(1)];
          return made ? sent.get(made.id)?.emailId : undefined;
        }
        return emailOfDestroyed.get(ref);
      };
      const emailUpdate: Record<string, unknown> = {};
      for (const [ref, patch] of Object.entries(onUpdate)) {
        const emailId = emailOf(ref);
        if (emailId) emailUpdate[emailId] = patch;
      }
      const emailDestroy = onDestroy.map(emailOf).filter((id): id is string => id !== undefined);
      const response = {
        accountId: accountJmapId(account.id),
        oldState,
        newState: await accountState(store, account),
        created,
        notCreated,
        updated: {},
        notUpdated,
        destroyed,
        notDestroyed,
      };
      if (!Object.keys(emailUpdate).length && !emailDestroy.length) return response;
      const emailResponse = await emailSet({
        accountId: accountJmapId(account.id),
        ...(Object.keys(emailUpdate).length ? { update: emailUpdate } : {}),
        ...(emailDestroy.length ? { destroy: emailDestroy } : {}),
      }, context);
      return new WithImplicit(response, [["Email/set", emailResponse as Record<string, unknown>]]);
    },
  };
}
