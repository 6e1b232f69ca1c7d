/**
 * JMAP Quota (RFC 9425): the account's storage quota as the store enforces it (store/quota.ts:
 * bytes of every message in its mailboxes). An account without a quota has no Quota object.
 */
import type { Store } from "../../store/store.ts";
import { accountJmapId, accountState, checkAccount, idsArgument, type JmapAccount } from "./mailbox.ts";
import { MethodError } from "./request.ts";
import { queryWindow } from "./query-window.ts";
import { pick, requestedProperties } from "./schemas.ts";
import { QUOTA_TYPE } from "./types/quota.ts";

export const QUOTA = "urn:ietf:params:jmap:quota";
const QUOTA_ID = "storage";

async function quotas(store: Store, account: JmapAccount) {
  const limit = (await store.accounts.get(account.address))?.quota ?? null;
  if (limit === null) return [];
  return [{
    id: QUOTA_ID,
    resourceType: "octets",
    used: await store.emails.storageUsed(account.id),
    hardLimit: limit,
    scope: "account",
    name: `${account.address} storage`,
    types: ["Email"],
    warnLimit: null,
    softLimit: null,
    description: null,
  }];
}

export function quotaMethods(store: Store, account: JmapAccount) {
  return {
    async "Quota/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      const properties = requestedProperties(QUOTA_TYPE, args.properties);
      const state = await accountState(store, account);
      const all = await quotas(store, account);
      const chosen = requested ? all.filter((q) => requested.includes(q.id)) : all;
      return {
        accountId: accountJmapId(account.id),
        state,
        list: chosen.map((q) => pick(q, properties)),
        notFound: requested ? requested.filter((id) => !all.some((q) => q.id === id)) : [],
      };
    },

    /** RFC 9425 §4.2: usage moves with every email change, so any newer state may have changed it. */
    async "Quota/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const state = await accountState(store, account);
      if (Number(args.sinceState) > Number(state)) {
        throw new MethodError("cannotCalculateChanges", "Unknown state");
      }
      const changed = args.sinceState === state ? [] : (await quotas(store, account)).map((q) => q.id);
      return {
        accountId: accountJmapId(account.id),
        oldState: args.sinceState,
        newState: state,
        hasMoreChanges: false,
        created: [],
        updated: changed,
        destroyed: [],
      };
    },

    async "Quota/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const ids = (await quotas(store, account)).map((q) => q.id);
      return {
        accountId: accountJmapId(account.id),
        queryState: await accountState(store, account),
        canCalculateChanges: false,
        ...queryWindow(ids, args),
        total: ids.length,
      };
    },
  };
}
