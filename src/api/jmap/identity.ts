/**
 * JMAP Identity/get, /set and /changes (RFC 8621 §6), stored per account. An identity's email is
 * the account's own address or one of the aliases that deliver to it (forbiddenFrom otherwise),
 * and cannot change once created.
 */
import type { Identity, IdentityFields } from "../../store/identities.ts";
import type { Store } from "../../store/store.ts";
import { changesOf } from "./changes.ts";
import { isEmailAddress } from "./compose-headers.ts";
import { accountState, checkAccount, idsArgument, type JmapAccount, parseId } from "./mailbox.ts";
import type { SetError } from "./submission-plan.ts";
import { pick, requestedProperties } from "./schemas.ts";
import { IDENTITY } from "./types/identity.ts";
import { getResponse, setArguments, setResponse } from "./standard.ts";

export const identityId = (id: number) => `I${id}`;

function identityObject(row: Identity): Record<string, unknown> {
  return {
    id: identityId(row.id),
    name: row.name,
    email: row.email,
    replyTo: row.replyTo,
    bcc: row.bcc,
    textSignature: row.textSignature,
    htmlSignature: row.htmlSignature,
    mayDelete: true,
  };
}

const invalid = (property: string, description: string): SetError => ({
  type: "invalidProperties",
  description,
  properties: [property],
});

/** The settable properties of a create or update, checked; a SetError when one is wrong. */
function fields(spec: Record<string, unknown>, creating: boolean): IdentityFields | SetError {
  const out: IdentityFields = {};
  for (const [key, value] of Object.entries(spec)) {
    switch (key) {
      case "name":
      case "textSignature":
      case "htmlSignature":
        if (typeof value !== "string") return invalid(key, `${key} is a string`);
        out[key] = value;
        break;
      case "replyTo":
      case "bcc":
        if (value !== null && !(Array.isArray(value) && value.every(isEmailAddress))) {
          return invalid(key, `${key} is null or a list of EmailAddress`);
        }
        out[key] = value === null ? null : (value as Array<{ name?: string | null; email: string }>).map((a) => ({
          name: a.name ?? null,
          email: a.email,
        }));
        break;
      case "email":
        if (!creating) return invalid("email", "email cannot change (RFC 8621 §6)");
        break;
      default:
        // id and mayDelete are the server's (RFC 8620 §5.3); anything else is unknown.
        return invalid(key, `${key} cannot be set`);
    }
  }
  return out;
}

export function identityMethods(store: Store, account: JmapAccount) {
  return {
    async "Identity/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      const properties = requestedProperties(IDENTITY, args.properties);
      // Listing may make the first identity: the state is read after it.
      const rows = await store.identities.list(account.id);
      const state = await accountState(store, account);
      const all = rows.map(identityObject);
      const chosen = requested ? all.filter((i) => requested.includes(i.id as string)) : all;
      const list = chosen.map((i) => pick(i, properties));
      return getResponse(account, state, list, requested, (id) => all.some((i) => i.id === id));
    },

    async "Identity/set"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      const { create, update, destroy } = setArguments(args, oldState);
      const existing = await store.identities.list(account.id);
      const sendable = (await store.identities.sendableAddresses(account.id)).map((a) => a.toLowerCase());
      const created: Record<string, { id: string; mayDelete: boolean }> = {};
      const notCreated: Record<string, SetError> = {};
      for (const [key, spec] of Object.entries(create)) {
        if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
          notCreated[key] = invalid("", "An Identity object");
          continue;
        }
        const { email } = spec as { email?: unknown };
        const checked = fields(spec as Record<string, unknown>, true);
        if ("type" in checked) notCreated[key] = checked;
        else if (typeof email !== "string" || !isEmailAddress({ email })) {
          notCreated[key] = invalid("email", "email is an address");
        } else if (!sendable.includes(email.toLowerCase())) {
          notCreated[key] = { type: "forbiddenFrom", description: `This account may not send as ${email}` };
        } else {
          const row = await store.identities.create(account.id, { ...checked, email });
          created[key] = { id: identityId(row.id), mayDelete: true };
        }
      }
      const updated: Record<string, null> = {};
      const notUpdated: Record<string, SetError> = {};
      for (const [id, patch] of Object.entries(update)) {
        const n = parseId("I", id);
        const row = existing.find((i) => i.id === n);
        if (!row || n === null) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
          notUpdated[id] = invalid("", "A patch object");
          continue;
        }
        const p = { ...(patch as Record<string, unknown>) };
        // An unchanged email may come back in a patch; a different one is refused.
        if (p.email === row.email) delete p.email;
        const checked = fields(p, false);
        if ("type" in checked) notUpdated[id] = checked;
        else if (await store.identities.update(account.id, n, checked)) updated[id] = null;
        else notUpdated[id] = { type: "notFound" };
      }
      const destroyed: string[] = [];
      const notDestroyed: Record<string, SetError> = {};
      for (const id of destroy) {
        const n = parseId("I", id);
        if (n !== null && (await store.identities.destroy(account.id, n))) destroyed.push(id);
        else notDestroyed[id] = { type: "notFound" };
      }
      const outcome = { created, notCreated, updated, notUpdated, destroyed, notDestroyed };
      return setResponse(account, oldState, await accountState(store, account), outcome);
    },

    async "Identity/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return changesOf(store, account, "identity", args, identityId);
    },
  };
}
