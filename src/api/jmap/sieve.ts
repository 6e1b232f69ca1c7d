/**
 * JMAP for Sieve Scripts (RFC 9661): SieveScript/get, /set, /query and /validate over the account's scripts, with the
 * rules ManageSieve uses (src/backends/sieve-scripts.ts). A script's content is a blob: created from an upload, and
 * handed out as an upload of its bytes (content-addressed, so the same script keeps its blobId). Every change of a
 * script (ManageSieve's too) is in the change log as type "sieve", so the state is the account's and
 * SieveScript/changes is the standard /changes (RFC 9661 §2.2).
 */
import {
  checkScript,
  decodeScript,
  SCRIPT_LIMITS,
  type ScriptResult,
  SieveScriptService,
} from "../../backends/sieve-scripts.ts";
import { CAPABILITIES as SIEVE_EXTENSIONS, DEFAULT_LIMITS } from "../../sieve/index.ts";
import type { Store } from "../../store/store.ts";
import { blobIdOf, readBlob } from "./blob.ts";
import { accountJmapId, accountState, checkAccount, idsArgument, type JmapAccount, parseId } from "./mailbox.ts";
import {
  checkConditions,
  getResponse,
  queryResponse,
  setArguments,
  setResponse,
  sortByComparators,
} from "./standard.ts";
import type { CallContext } from "./request.ts";
import { pick, requestedProperties } from "./schemas.ts";
import { SIEVE_SCRIPT } from "./types/sieve-script.ts";
import { changesOf } from "./changes.ts";
import type { SetError as BaseSetError } from "./submission-plan.ts";

/** alreadyExists names the script that holds the name (RFC 8620 §5.4). */
type SetError = BaseSetError & { existingId?: string };

export const SIEVE = "urn:ietf:params:jmap:sieve";

/** RFC 9661 §2: the account capability (the session capability is an empty object). */
export const SIEVE_ACCOUNT_CAPABILITY = {
  maxSizeScriptName: 128,
  maxSizeScript: SCRIPT_LIMITS.maxSize,
  maxNumberScripts: SCRIPT_LIMITS.maxScripts,
  maxNumberRedirects: DEFAULT_LIMITS.redirects,
  sieveExtensions: SIEVE_EXTENSIONS,
  notificationMethods: null,
  externalLists: null,
  implementation: "Postern",
};

interface Script {
  id: number;
  name: string;
  active: boolean;
  content: string;
}

const scriptId = (id: number) => `S${id}`;
const enc = new TextEncoder();

/** The SetError for a refusal of the shared script rules (RFC 9661 §2.2). */
function setErrorOf(result: Exclude<ScriptResult, { kind: "ok" }>, name: string): SetError {
  switch (result.kind) {
    case "bad-name":
      return {
        type: "invalidProperties",
        description: "1 to 128 characters, no control characters or /",
        properties: ["name"],
      };
    case "invalid":
      return { type: "invalidSieve", description: result.message };
    case "too-big":
      return { type: "tooLarge", description: `Scripts are limited to ${SCRIPT_LIMITS.maxSize} bytes` };
    case "too-many":
      return { type: "overQuota", description: `At most ${SCRIPT_LIMITS.maxScripts} scripts` };
    case "nonexistent":
      return { type: "notFound" };
    case "exists":
      return { type: "alreadyExists", description: `A script named ${name} exists` };
    case "active":
      return { type: "sieveIsActive", description: "The active script cannot be destroyed" };
  }
}

export function sieveMethods(store: Store, account: JmapAccount) {
  const scripts = new SieveScriptService(store);
  const mine = () => scripts.scripts(account.id);
  const byJmapId = (all: Script[], id: string) => {
    const n = parseId("S", id);
    return n === null ? undefined : all.find((s) => s.id === n);
  };

  /** The content of an uploaded blob as a script, or the SetError. */
  const contentOf = async (blobId: unknown): Promise<string | SetError> => {
    if (typeof blobId !== "string") {
      return { type: "invalidProperties", description: "blobId is required", properties: ["blobId"] };
    }
    const bytes = await readBlob(store, account, blobId);
    if (!bytes) return { type: "blobNotFound", description: `No blob ${blobId}`, notFound: [blobId] };
    const content = decodeScript(bytes);
    return content ?? { type: "invalidSieve", description: "The script is not UTF-8" };
  };

  /** A create or update patch: name, blobId; isActive only as it already is (RFC 9661 §2: server-set). */
  const checkPatch = (
    patch: unknown,
    current: Script | null,
  ): { name?: string | null; blobId?: unknown } | SetError => {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
      return { type: current ? "invalidPatch" : "invalidProperties", description: "An object" };
    }
    const out: { name?: string | null; blobId?: unknown } = {};
    for (const [key, value] of Object.entries(patch)) {
      if (key === "name") {
        if (value !== null && typeof value !== "string") {
          return { type: "invalidProperties", description: "name is a string", properties: ["name"] };
        }
        out.name = value as string | null;
      } else if (key === "blobId") out.blobId = value;
      else if (key === "isActive" && value === (current?.active ?? false)) continue;
      else if (key === "id" && current && value === scriptId(current.id)) continue;
      else {
        const why = key === "isActive" ? "isActive changes through onSuccessActivateScript" : `${key} cannot be set`;
        return { type: "invalidProperties", description: why, properties: [key] };
      }
    }
    if (!current && out.blobId === undefined) {
      return { type: "invalidProperties", description: "blobId is required", properties: ["blobId"] };
    }
    return out;
  };

  /** A name for a script created without one: "script", "script-2", ... */
  const freeName = (all: Script[]) => {
    for (let n = 1;; n++) {
      const name = n === 1 ? "script" : `script-${n}`;
      if (!all.some((s) => s.name === name)) return name;
    }
  };

  return {
    async "SieveScript/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      const properties = requestedProperties(SIEVE_SCRIPT, args.properties);
      const all = await mine();
      const found = (requested ? requested.map((id) => byJmapId(all, id)) : all).filter((s) => s !== undefined);
      const list = [];
      for (const s of found) {
        const object: Record<string, unknown> = { id: scriptId(s.id), name: s.name, isActive: s.active };
        // The blob is (re)uploaded so the download endpoint can serve it; the same bytes keep the same blobId.
        if (!properties || properties.includes("blobId")) {
          object.blobId = blobIdOf(await store.mail.upload(account.id, enc.encode(s.content)));
        }
        list.push(pick(object, properties));
      }
      return getResponse(account, await accountState(store, account), list, requested, (id) => !!byJmapId(all, id));
    },

    /** RFC 9661 §2.2: the standard /changes, over the change log's "sieve" entries. */
    async "SieveScript/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return changesOf(store, account, "sieve", args, scriptId);
    },

    async "SieveScript/set"(args: Record<string, unknown>, context: CallContext) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      const { create, update, destroy } = setArguments(args, oldState);
      // Their types are checked by the schema (types/sieve-script.ts).
      const activate = args.onSuccessActivateScript as string | null | undefined;
      const deactivate = args.onSuccessDeactivateScript as boolean | null | undefined;

      const created: Record<string, Record<string, unknown>> = {};
      const notCreated: Record<string, SetError> = {};
      const createdIds = new Map<string, number>();
      for (const [creationId, object] of Object.entries(create)) {
        const checked = checkPatch(object, null);
        if ("type" in checked) {
          notCreated[creationId] = checked;
          continue;
        }
        const content = await contentOf(checked.blobId);
        if (typeof content !== "string") {
          notCreated[creationId] = content;
          continue;
        }
        const all = await mine();
        const name = checked.name ?? freeName(all);
        // RFC 9661 §2.2: a name already taken is alreadyExists, with the existing script's id.
        const taken = all.find((s) => s.name === name);
        if (taken) {
          notCreated[creationId] = { ...setErrorOf({ kind: "exists" }, name), existingId: scriptId(taken.id) };
          continue;
        }
        const result = await scripts.put(account.id, name, content);
        if (result.kind !== "ok") {
          notCreated[creationId] = setErrorOf(result, name);
          continue;
        }
        const made = (await mine()).find((s) => s.name === name)!;
        createdIds.set(creationId, made.id);
        context.createdIds.set(creationId, scriptId(made.id));
        created[creationId] = { id: scriptId(made.id), name, isActive: false, blobId: checked.blobId };
      }

      const updated: Record<string, Record<string, unknown> | null> = {};
      const notUpdated: Record<string, SetError> = {};
      for (const [id, patch] of Object.entries(update)) {
        const script = byJmapId(await mine(), id);
        if (!script) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        const checked = checkPatch(patch, script);
        if ("type" in checked) {
          notUpdated[id] = checked;
          continue;
        }
        let content = script.content;
        if (checked.blobId !== undefined) {
          const read = await contentOf(checked.blobId);
          if (typeof read !== "string") {
            notUpdated[id] = read;
            continue;
          }
          content = read;
        }
        const name = checked.name ?? script.name;
        // Checked before renaming, so a refused script leaves the old one as it was.
        const valid = await scripts.haveSpace(account.id, script.name, enc.encode(content).length);
        const compiled = valid.kind === "ok" ? checkScript(content) : valid;
        if (compiled.kind !== "ok") {
          notUpdated[id] = setErrorOf(compiled, name);
          continue;
        }
        if (name !== script.name) {
          const renamed = await scripts.rename(account.id, script.name, name);
          if (renamed.kind !== "ok") {
            notUpdated[id] = renamed.kind === "exists"
              ? { ...setErrorOf(renamed, name), existingId: scriptId((await mine()).find((s) => s.name === name)!.id) }
              : setErrorOf(renamed, name);
            continue;
          }
        }
        if (content !== script.content) await scripts.put(account.id, name, content);
        updated[id] = null;
      }

      const destroyed: string[] = [];
      const notDestroyed: Record<string, SetError> = {};
      for (const id of destroy) {
        const script = byJmapId(await mine(), id);
        if (!script) {
          notDestroyed[id] = { type: "notFound" };
          continue;
        }
        const result = await scripts.delete(account.id, script.name);
        if (result.kind === "ok") destroyed.push(id);
        else notDestroyed[id] = setErrorOf(result, script.name);
      }

      // RFC 9661 §2.2: activation only when every change succeeded; a missing or unknown id is ignored.
      const allDone = [notCreated, notUpdated, notDestroyed].every((m) => Object.keys(m).length === 0);
      if (allDone && (deactivate === true || typeof activate === "string")) {
        const all = await mine();
        const before = all.find((s) => s.active);
        const target = typeof activate === "string"
          ? (activate.startsWith("#")
            ? all.find((s) => s.id === createdIds.get(activate.slice(1)))
            : byJmapId(all, activate))
          : undefined;
        const next = target ?? (deactivate === true ? null : before ?? null);
        if ((next?.id ?? null) !== (before?.id ?? null)) {
          await scripts.activate(account.id, next?.name ?? null);
          const report = (script: Script, isActive: boolean) => {
            const creation = [...createdIds].find(([, rowId]) => rowId === script.id)?.[0];
            if (creation) created[creation] = { ...created[creation], isActive };
            else updated[scriptId(script.id)] = { ...updated[scriptId(script.id)], isActive };
          };
          if (before) report(before, false);
          if (next) report(next, true);
        }
      }

      const outcome = { created, notCreated, updated, notUpdated, destroyed, notDestroyed };
      return setResponse(account, oldState, await accountState(store, account), outcome);
    },

    /** RFC 9661 §2.3: filter `name` (contained in the name) and `isActive`; sort by name or isActive. */
    async "SieveScript/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const all = await mine();
      // The argument types are checked by the schema (types/sieve-script.ts).
      const { name, isActive } = (args.filter ?? {}) as { name?: string; isActive?: boolean };
      checkConditions(args.filter, ["name", "isActive"]);
      const matched = all.filter((s) =>
        (name === undefined || s.name.includes(name)) && (isActive === undefined || s.active === isActive)
      );
      const sorted = sortByComparators(matched, args.sort, {
        name: (s) => s.name,
        isActive: (s) => Number(s.active),
      });
      return queryResponse(account, await accountState(store, account), sorted.map((s) => scriptId(s.id)), args);
    },

    /** RFC 9661 §2.4: compiles the blob's script; `error` is null or an invalidSieve SetError. */
    async "SieveScript/validate"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const content = await contentOf(args.blobId);
      const checked = typeof content === "string" ? checkScript(content) : null;
      const error = typeof content !== "string" ? content : checked!.kind === "ok" ? null : setErrorOf(checked!, "");
      return { accountId: accountJmapId(account.id), error };
    },
  };
}
