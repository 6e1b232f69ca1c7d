/**
 * JMAP EmailSubmission (RFC 8621 §7): /set sends a stored Email through the same path as SMTP
 * submission — local recipients get it at once, the rest go through the outbound queue — and
 * records the submission in the store, where /get, /query and /changes read it and the queue
 * keeps its deliveryStatus current. Identities are in identity.ts.
 */
import { type Deliverer, DeliveryRefused } from "../../deliver/deliverer.ts";
import type { EmailSubmission } from "../../store/submissions.ts";
import type { Store } from "../../store/store.ts";
import { changesOf, queryChangesOf } from "./changes.ts";
import { emailId as jmapEmailId } from "./email.ts";
import { identityId, identityMethods } from "./identity.ts";
import { accountJmapId, accountState, checkAccount, idsArgument, type JmapAccount, parseId } from "./mailbox.ts";
import { type CallContext, type Method, MethodError, utcDate, WithImplicit } from "./request.ts";
import { queryWindow } from "./query-window.ts";
import { type Planned, planSubmission, type SetError } from "./submission-plan.ts";
import { pick, requestedProperties } from "./schemas.ts";
import { EMAIL_SUBMISSION } from "./types/email-submission.ts";
import { getResponse, idList, objectArgument, setArguments } from "./standard.ts";

export const SUBMISSION = "urn:ietf:params:jmap:submission";

export const submissionId = (id: number) => `S${id}`;

function submissionObject(row: EmailSubmission): Record<string, unknown> {
  return {
    id: submissionId(row.id),
    identityId: identityId(row.identityId),
    emailId: jmapEmailId(row.emailId),
    threadId: row.threadId,
    envelope: row.envelope,
    sendAt: utcDate(row.sendAt),
    undoStatus: row.undoStatus,
    deliveryStatus: row.deliveryStatus,
    dsnBlobIds: [],
    mdnBlobIds: [],
  };
}

/** RFC 8621 §7.3 FilterCondition, and the sorts it names. */
function matches(row: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(filter)) {
    // The types are checked by schemas.ts.
    const list = (v: unknown) => v as string[];
    if (key === "identityIds" && !list(value).includes(row.identityId as string)) return false;
    else if (key === "emailIds" && !list(value).includes(row.emailId as string)) return false;
    else if (key === "threadIds" && !list(value).includes(row.threadId as string)) return false;
    else if (key === "undoStatus" && row.undoStatus !== value) return false;
    else if (key === "before" && !((row.sendAt as string) < String(value))) return false;
    else if (key === "after" && !((row.sendAt as string) >= String(value))) return false;
    else if (!["identityIds", "emailIds", "threadIds", "undoStatus", "before", "after"].includes(key)) {
      throw new MethodError("unsupportedFilter", `Filter ${key} is not supported`);
    }
  }
  return true;
}

async function querySubmissions(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  let rows = (await store.submissions.list(account.id)).map(submissionObject);
  const filter = args.filter ?? null;
  if (filter) rows = rows.filter((r) => matches(r, filter as Record<string, unknown>));
  const sort = Array.isArray(args.sort) ? (args.sort as Array<{ property?: unknown; isAscending?: unknown }>) : [];
  const keys: Record<string, string> = { emailId: "emailId", threadId: "threadId", sentAt: "sendAt" };
  for (const { property, isAscending } of [...sort].reverse()) {
    const key = keys[String(property)];
    if (!key) throw new MethodError("unsupportedSort", `Sort by ${String(property)} is not supported`);
    const sign = isAscending === false ? -1 : 1;
    rows = [...rows].sort((a, b) => sign * String(a[key]).localeCompare(String(b[key])));
  }
  return rows.map((r) => r.id as string);
}

export function submissionMethods(
  store: Store,
  account: JmapAccount,
  deliverer: Deliverer,
  emailSet: Method,
) {
  const owned = async (ids?: readonly string[]) => {
    const numbers = ids?.map((id) => parseId("S", id)).filter((n): n is number => n !== null);
    return store.submissions.list(account.id, numbers);
  };
  return {
    ...identityMethods(store, account),

    async "EmailSubmission/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      const properties = requestedProperties(EMAIL_SUBMISSION, args.properties);
      const state = await accountState(store, account);
      const all = (await owned(requested ?? undefined)).map(submissionObject);
      const list = all.map((s) => pick(s, properties));
      return getResponse(account, state, list, requested, (id) => all.some((s) => s.id === id));
    },

    async "EmailSubmission/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const state = await accountState(store, account);
      const ids = await querySubmissions(store, account, args);
      return {
        accountId: accountJmapId(account.id),
        queryState: state,
        canCalculateChanges: true,
        ...queryWindow(ids, args),
        ...(args.calculateTotal === true ? { total: ids.length } : {}),
      };
    },

    /** RFC 8620 §5.6 over the submission log (creates, deliveryStatus updates, destroys). */
    async "EmailSubmission/queryChanges"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return queryChangesOf(
        store,
        account,
        "submission",
        args,
        () => querySubmissions(store, account, args),
        submissionId,
      );
    },

    async "EmailSubmission/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return changesOf(store, account, "submission", args, submissionId);
    },

    /**
     * RFC 8621 §7.5. The whole call is checked before anything is sent: the arguments, each
     * create (identity, email, envelope) and each update or destroy; then each valid create is
     * handed to delivery and recorded, and onSuccessUpdateEmail / onSuccessDestroyEmail run as an
     * implicit Email/set whose response follows this one.
     */
    async "EmailSubmission/set"(args: Record<string, unknown>, context: CallContext) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      const { create, update, destroy } = setArguments(args, oldState);
      const onUpdate = objectArgument(args, "onSuccessUpdateEmail");
      const onDestroy = idList(args, "onSuccessDestroyEmail");
      const existing = new Map(
        (await owned([...Object.keys(update), ...destroy, ...Object.keys(onUpdate), ...onDestroy]))
          .map((row) => [submissionId(row.id), row]),
      );
      for (const ref of [...Object.keys(onUpdate), ...onDestroy]) {
        if (ref.startsWith("#") ? !(ref.slice(1) in create) : !existing.has(ref)) {
          throw new MethodError("invalidArguments", `${ref} names no EmailSubmission of this call`);
        }
      }

      const sender = {
        identityIds: (await store.identities.list(account.id)).map((i) => identityId(i.id)),
        sendable: (await store.identities.sendableAddresses(account.id)).map((a) => a.toLowerCase()),
      };
      const notCreated: Record<string, SetError> = {};
      const planned: Array<{ key: string; plan: Planned }> = [];
      for (const [key, spec] of Object.entries(create)) {
        const plan = await planSubmission(store, account, sender, spec, context);
        if ("type" in plan) notCreated[key] = plan;
        else planned.push({ key, plan });
      }
      // Sent submissions are final (undoStatus "final" from the start): none can be canceled.
      const notUpdated: Record<string, SetError> = {};
      for (const [id, patch] of Object.entries(update)) {
        notUpdated[id] = !existing.has(id)
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
      for (const id of destroy) if (!existing.has(id)) notDestroyed[id] = { type: "notFound" };

      const created: Record<string, { id: string; sendAt: string; undoStatus: string }> = {};
      const emailOfCreated = new Map<string, string>();
      for (const { key, plan } of planned) {
        let queueId: number | undefined;
        try {
          ({ queueId } = await deliverer.deliver({
            sender: plan.envelope.mailFrom.email,
            recipients: plan.envelope.rcptTo.map((r) => ({ address: r.email })),
            raw: plan.raw,
            accountId: account.id,
            authenticatedAs: account.address,
            inbound: false,
            remoteIp: "127.0.0.1",
            helo: "jmap",
          }));
        } catch (e) {
          if (!(e instanceof DeliveryRefused)) throw e;
          notCreated[key] = { type: "forbiddenToSend", description: e.message };
          continue;
        }
        // Acknowledged once the record has committed (the mail itself committed in deliver()).
        const row = await store.submissions.create(account.id, {
          identityId: plan.identityId,
          emailId: parseId("M", plan.emailId)!,
          threadId: plan.threadId,
          envelope: plan.envelope,
          sendAt: new Date(Math.floor(Date.now() / 1000) * 1000),
          queueId: queueId ?? null,
        });
        created[key] = { id: submissionId(row.id), sendAt: utcDate(row.sendAt), undoStatus: row.undoStatus };
        emailOfCreated.set(key, plan.emailId);
      }
      // Destroying a submission forgets it; the message stays sent.
      const emailOfDestroyed = new Map<string, string>();
      for (const id of destroy) {
        if (notDestroyed[id]) continue;
        if (await store.submissions.destroy(account.id, existing.get(id)!.id)) {
          emailOfDestroyed.set(id, jmapEmailId(existing.get(id)!.emailId));
          destroyed.push(id);
        } else notDestroyed[id] = { type: "notFound" };
      }

      // RFC 8621 §7.5: keys are EmailSubmission ids (or #creation ids) whose create/update/destroy succeeded.
      const emailOf = (ref: string) =>
        ref.startsWith("#") ? emailOfCreated.get(ref.slice(1)) : emailOfDestroyed.get(ref);
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
