/**
 * JMAP VacationResponse/get and /set (RFC 8621 §8): one object per account, id "singleton", stored as it is set and
 * written as a managed Sieve script (src/sieve/vacation-response.ts, issue 21), active when the account has no other;
 * delivery runs it beside the active script otherwise, so the object and the replies sent never disagree.
 */
import type { VacationResponse } from "../../store/vacation.ts";
import type { Store } from "../../store/store.ts";
import { VACATION_SCRIPT, vacationResponseScript } from "../../sieve/vacation-response.ts";
import { accountJmapId, accountState, checkAccount, idsArgument, type JmapAccount } from "./mailbox.ts";
import { utcDate } from "./request.ts";
import type { SetError } from "./submission-plan.ts";
import { pick, requestedProperties, UTC_DATE } from "./schemas.ts";
import { VACATION_RESPONSE } from "./types/vacation-response.ts";
import { checkIfInState, idList, objectArgument } from "./standard.ts";

export const VACATION = "urn:ietf:params:jmap:vacationresponse";
const SINGLETON = "singleton";

function vacationObject(v: VacationResponse): Record<string, unknown> {
  return {
    id: SINGLETON,
    isEnabled: v.isEnabled,
    fromDate: v.fromDate ? utcDate(v.fromDate) : null,
    toDate: v.toDate ? utcDate(v.toDate) : null,
    subject: v.subject,
    textBody: v.textBody,
    htmlBody: v.htmlBody,
  };
}

/** A patch of the settable properties, or the SetError naming the first bad one. */
function patchOf(patch: Record<string, unknown>): Partial<VacationResponse> | SetError {
  const out: Partial<VacationResponse> = {};
  const bad = (property: string, description: string): SetError => ({
    type: "invalidProperties",
    description,
    properties: [property],
  });
  for (const [key, value] of Object.entries(patch)) {
    if (key === "isEnabled") {
      if (typeof value !== "boolean") return bad(key, "isEnabled is a boolean");
      out.isEnabled = value;
    } else if (key === "fromDate" || key === "toDate") {
      if (value !== null && (typeof value !== "string" || !UTC_DATE.test(value) || Number.isNaN(Date.parse(value)))) {
        return bad(key, `${key} is a UTCDate or null`);
      }
      out[key] = value === null ? null : new Date(value as string);
    } else if (key === "subject" || key === "textBody" || key === "htmlBody") {
      if (value !== null && typeof value !== "string") return bad(key, `${key} is a string or null`);
      out[key] = value as string | null;
    } else if (key === "id" && value === SINGLETON) continue;
    else return bad(key, `${key} cannot be set`);
  }
  const from = "fromDate" in out ? out.fromDate : undefined;
  const to = "toDate" in out ? out.toDate : undefined;
  if (from && to && to <= from) return bad("toDate", "toDate is after fromDate");
  return out;
}

export function vacationMethods(store: Store, account: JmapAccount) {
  return {
    async "VacationResponse/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      const properties = requestedProperties(VACATION_RESPONSE, args.properties);
      const shown = pick(vacationObject(await store.vacation.get(account.id)), properties);
      return {
        accountId: accountJmapId(account.id),
        state: await accountState(store, account),
        list: !requested || requested.includes(SINGLETON) ? [shown] : [],
        notFound: requested ? requested.filter((id) => id !== SINGLETON) : [],
      };
    },

    /** RFC 8621 §8.2: the singleton is only updated; create and destroy get "singleton". */
    async "VacationResponse/set"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      checkIfInState(args, oldState);
      const notCreated: Record<string, SetError> = {};
      for (const key of Object.keys(objectArgument(args, "create"))) {
        notCreated[key] = { type: "singleton", description: "The VacationResponse exists; update it" };
      }
      const notDestroyed: Record<string, SetError> = {};
      for (const id of idList(args, "destroy")) {
        notDestroyed[id] = id === SINGLETON
          ? { type: "singleton", description: "The VacationResponse cannot be destroyed" }
          : { type: "notFound" };
      }
      const updated: Record<string, null> = {};
      const notUpdated: Record<string, SetError> = {};
      for (const [id, patch] of Object.entries(objectArgument(args, "update"))) {
        if (id !== SINGLETON) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
          notUpdated[id] = { type: "invalidPatch", description: "A patch object" };
          continue;
        }
        const checked = patchOf(patch as Record<string, unknown>);
        if ("type" in checked) {
          notUpdated[id] = checked;
          continue;
        }
        const now = { ...(await store.vacation.get(account.id)), ...checked };
        if (now.fromDate && now.toDate && now.toDate <= now.fromDate) {
          notUpdated[id] = {
            type: "invalidProperties",
            description: "toDate is after fromDate",
            properties: ["toDate"],
          };
          continue;
        }
        const saved = await store.vacation.set(account.id, checked);
        await store.sieve.putManaged(account.id, VACATION_SCRIPT, vacationResponseScript(saved));
        updated[id] = null;
      }
      return {
        accountId: accountJmapId(account.id),
        oldState,
        newState: await accountState(store, account),
        created: {},
        notCreated,
        updated,
        notUpdated,
        destroyed: [],
        notDestroyed,
      };
    },
  };
}
