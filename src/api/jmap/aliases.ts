/**
 * The Postern capability `urn:postern:aliases` (issue 19): Alias/get, Alias/set and Alias/query
 * over the aliases the account manages itself, with the rules of `/api/v1/me/aliases` — created
 * only at domains the admin opened to owners, delivering only to the account's own address,
 * never another's alias or a catch-all; `disabled` is the one property that changes later.
 * Aliases are not in the change log: the state is a digest of the account's aliases (their
 * addresses, targets and disabled flags), so /changes is not offered.
 */
import { createHash } from "node:crypto";
import type { AliasDetails } from "../../store/aliases.ts";
import { StoreError } from "../../store/errors.ts";
import type { Store } from "../../store/store.ts";
import { checkAccount, idsArgument, type JmapAccount, parseId } from "./mailbox.ts";
import {
  checkConditions,
  getResponse,
  queryResponse,
  setArguments,
  setResponse,
  sortByComparators,
} from "./standard.ts";
import { type CallContext, utcDate } from "./request.ts";
import { notSettable, pick, requestedProperties } from "./schemas.ts";
import { ALIAS } from "./types/alias.ts";
import type { SetError } from "./submission-plan.ts";

export const ALIASES = "urn:postern:aliases";

const aliasId = (id: number) => `AL${id}`;
/** Alias/query sorts by address, the counters or the last use. */
const SORT_KEYS: Record<string, (a: AliasDetails) => string | number> = {
  address: (a) => a.address,
  forwarded: (a) => a.forwarded,
  refused: (a) => a.refused,
  lastUsedAt: (a) => a.lastUsedAt?.getTime() ?? -1,
};

function aliasObject(a: AliasDetails): Record<string, unknown> {
  return {
    id: aliasId(a.id),
    address: a.address,
    targets: a.targets,
    disabled: a.disabled,
    forwarded: a.forwarded,
    refused: a.refused,
    lastUsedAt: a.lastUsedAt ? utcDate(a.lastUsedAt) : null,
  };
}

function stateOf(aliases: readonly AliasDetails[]): string {
  const digest = createHash("sha256");
  for (const a of aliases) digest.update(`${a.id}\0${a.address}\0${a.targets.join(" ")}\0${a.disabled}\n`);
  return digest.digest("base64url").slice(0, 16);
}

const invalid = (property: string, description: string): SetError => ({
  type: "invalidProperties",
  description,
  properties: [property],
});

/** The SetError for a refusal of the store (the rules of /api/v1/me/aliases). */
function setErrorOf(e: unknown): SetError {
  if (!(e instanceof StoreError)) throw e;
  if (e.code === "not-found") return { type: "notFound", description: e.message };
  if (/does not let owners|Only the admin/.test(e.message)) return { type: "forbidden", description: e.message };
  return invalid("address", e.message);
}

function checkPatch(patch: unknown, creating: boolean): { address?: string; disabled?: boolean } | SetError {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return { type: creating ? "invalidProperties" : "invalidPatch", description: "An object" };
  }
  const out: { address?: string; disabled?: boolean } = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === "disabled") {
      if (typeof value !== "boolean") return invalid(key, "disabled is a boolean");
      out.disabled = value;
    } else if (key === "address" && creating) {
      if (typeof value !== "string") return invalid(key, "address is a string");
      out.address = value;
    } else if (notSettable(ALIAS, creating).includes(key)) {
      return invalid(key, ALIAS.properties[key] === "server" ? `${key} is set by the server` : `${key} cannot change`);
    } else return invalid(key, `Unknown property ${key}`);
  }
  if (creating && out.address === undefined) return invalid("address", "address is required");
  return out;
}

export function aliasMethods(store: Store, account: JmapAccount) {
  const mine = () => store.aliases.details(account.id);
  const byJmapId = (aliases: AliasDetails[], id: string) => {
    const n = parseId("AL", id);
    return n === null ? undefined : aliases.find((a) => a.id === n);
  };

  return {
    async "Alias/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      const properties = requestedProperties(ALIAS, args.properties);
      const aliases = await mine();
      const shown = (a: AliasDetails) => pick(aliasObject(a), properties);
      const found = requested ? requested.map((id) => byJmapId(aliases, id)) : aliases;
      const list = found.filter((a) => a !== undefined).map(shown);
      return getResponse(account, stateOf(aliases), list, requested, (id) => !!byJmapId(aliases, id));
    },

    async "Alias/set"(args: Record<string, unknown>, context: CallContext) {
      checkAccount(args, account);
      const oldState = stateOf(await mine());
      const { create, update, destroy } = setArguments(args, oldState);

      const created: Record<string, Record<string, unknown>> = {};
      const notCreated: Record<string, SetError> = {};
      for (const [creationId, object] of Object.entries(create)) {
        const checked = checkPatch(object, true);
        if ("type" in checked) {
          notCreated[creationId] = checked;
          continue;
        }
        try {
          if (await store.aliases.detail(checked.address!)) {
            notCreated[creationId] = invalid("address", `Alias ${checked.address} already exists`);
            continue;
          }
          const a = await store.aliases.add(checked.address!, [account.address], { ownerId: account.id });
          if (checked.disabled) await store.aliases.setDisabled(a.address, true, account.id);
          const made = (await store.aliases.detail(a.address))!;
          created[creationId] = aliasObject(made);
          context.createdIds.set(creationId, aliasId(made.id));
        } catch (e) {
          notCreated[creationId] = setErrorOf(e);
        }
      }

      const updated: Record<string, null> = {};
      const notUpdated: Record<string, SetError> = {};
      for (const [id, patch] of Object.entries(update)) {
        const alias = byJmapId(await mine(), id);
        if (!alias) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        const checked = checkPatch(patch, false);
        if ("type" in checked) {
          notUpdated[id] = checked;
          continue;
        }
        try {
          if (checked.disabled !== undefined) {
            await store.aliases.setDisabled(alias.address, checked.disabled, account.id);
          }
          updated[id] = null;
        } catch (e) {
          notUpdated[id] = setErrorOf(e);
        }
      }

      const destroyed: string[] = [];
      const notDestroyed: Record<string, SetError> = {};
      for (const id of destroy) {
        const alias = byJmapId(await mine(), id);
        if (!alias) {
          notDestroyed[id] = { type: "notFound" };
          continue;
        }
        try {
          await store.aliases.remove(alias.address, [], account.id);
          destroyed.push(id);
        } catch (e) {
          notDestroyed[id] = setErrorOf(e);
        }
      }
      const outcome = { created, notCreated, updated, notUpdated, destroyed, notDestroyed };
      return setResponse(account, oldState, stateOf(await mine()), outcome);
    },

    /** Filter: `disabled` (boolean), `text` (part of the address); sort by address, counters or last use. */
    async "Alias/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const aliases = await mine();
      // The argument types are checked by the schema (types/alias.ts).
      const { disabled, text } = (args.filter ?? {}) as { disabled?: boolean; text?: string };
      checkConditions(args.filter, ["disabled", "text"]);
      const matched = aliases.filter((a) =>
        (disabled === undefined || a.disabled === disabled) &&
        (text === undefined || a.address.includes(text.toLowerCase()))
      );
      const sorted = sortByComparators(matched, args.sort, SORT_KEYS);
      return queryResponse(account, stateOf(aliases), sorted.map((a) => aliasId(a.id)), args);
    },
  };
}
