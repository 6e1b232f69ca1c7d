/**
 * What the standard methods of every data type share (RFC 8620 §5): the /get response, the
 * ifInState check and the response of /set, and the sort and the response of a /query computed in
 * memory.
 */
import { accountJmapId, type JmapAccount } from "./mailbox.ts";
import { MethodError } from "./method-error.ts";
import { queryWindow } from "./query-window.ts";

/** The /get response (RFC 8620 §5.1): the ids asked for that do not exist are notFound. */
export function getResponse(
  account: JmapAccount,
  state: string,
  list: readonly unknown[],
  requested: readonly string[] | null,
  exists: (id: string) => boolean,
) {
  return {
    accountId: accountJmapId(account.id),
    state,
    list,
    notFound: requested ? requested.filter((id) => !exists(id)) : [],
  };
}

/** An argument that must be an object when given (create, update, onSuccessUpdateEmail). */
export function objectArgument(args: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = args[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new MethodError("invalidArguments", `${name}`);
  return value as Record<string, unknown>;
}

/** An argument that must be a list of ids when given (destroy, onSuccessDestroyEmail). */
export function idList(args: Record<string, unknown>, name: string): string[] {
  const value = args[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((id) => typeof id === "string")) {
    throw new MethodError("invalidArguments", `${name} is a list of ids`);
  }
  return value;
}

/**
 * The create, update and destroy arguments of a /set (RFC 8620 §5.3), once ifInState is checked
 * against the state now.
 */
export function setArguments(args: Record<string, unknown>, state: string) {
  checkIfInState(args, state);
  return {
    create: objectArgument(args, "create"),
    update: objectArgument(args, "update"),
    destroy: idList(args, "destroy"),
  };
}

/** RFC 8620 §5.3: an ifInState that is not the current state is stateMismatch, and nothing changes. */
export function checkIfInState(args: Record<string, unknown>, state: string): void {
  if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== state) {
    throw new MethodError("stateMismatch");
  }
}

/** The outcome of each create, update and destroy of a /set (RFC 8620 §5.3). */
export interface SetOutcome {
  created: Record<string, unknown>;
  notCreated: Record<string, unknown>;
  updated: Record<string, unknown>;
  notUpdated: Record<string, unknown>;
  destroyed: string[];
  notDestroyed: Record<string, unknown>;
}

/** The /set response (RFC 8620 §5.3). */
export function setResponse(account: JmapAccount, oldState: string, newState: string, outcome: SetOutcome) {
  return { accountId: accountJmapId(account.id), oldState, newState, ...outcome };
}

/**
 * Sorts by a list of Comparators (RFC 8620 §5.5), the first one deciding: `keys` gives each
 * sortable property's value; another property is unsupportedSort. The types are the schema's.
 */
export function sortByComparators<T>(
  items: readonly T[],
  sort: unknown,
  keys: Record<string, (item: T) => string | number>,
): T[] {
  let sorted = [...items];
  for (
    const { property, isAscending = true } of [...((sort ?? []) as Array<{ property: string; isAscending?: boolean }>)]
      .reverse()
  ) {
    const key = Object.hasOwn(keys, property) ? keys[property]! : null;
    if (!key) throw new MethodError("unsupportedSort", `Cannot sort by ${property}`);
    // Array.prototype.sort is stable: earlier comparators, applied last, win.
    sorted = sorted.sort((x, y) => {
      const [a, b] = [key(x), key(y)];
      const order = a < b ? -1 : a > b ? 1 : 0;
      return isAscending === false ? -order : order;
    });
  }
  return sorted;
}

/** A FilterCondition's keys beyond those the type knows are unsupportedFilter (RFC 8620 §5.5). */
export function checkConditions(filter: unknown, known: readonly string[]): void {
  const other = Object.keys(filter ?? {}).find((k) => !known.includes(k));
  if (other !== undefined) throw new MethodError("unsupportedFilter", `Unknown filter ${other}`);
}

/** The /query response over the whole list of matching ids (RFC 8620 §5.5), for a type without queryChanges. */
export function queryResponse(
  account: JmapAccount,
  queryState: string,
  ids: readonly string[],
  args: Record<string, unknown>,
) {
  const window = queryWindow(ids, args);
  return {
    accountId: accountJmapId(account.id),
    queryState,
    canCalculateChanges: false,
    position: window.position,
    ids: window.ids,
    ...(args.calculateTotal === true ? { total: ids.length } : {}),
    ...("limit" in window ? { limit: window.limit } : {}),
  };
}
