/**
 * The rules for changing an account's Sieve scripts, shared by ManageSieve (RFC 5804), JMAP for Sieve (RFC 9661) and
 * the REST API: a script is stored only when it compiles (src/sieve/), is valid UTF-8 and fits the limits on size and
 * number of scripts. Answers are values each protocol turns into its own reply; only I/O failures throw.
 */
import type { ScriptResult } from "../managesieve/backend.ts";
import { compileSieve, DEFAULT_LIMITS } from "../sieve/index.ts";
import { StoreError } from "../store/errors.ts";
import { type SieveScriptInfo, validScriptName } from "../store/sieve-scripts.ts";
import type { Store } from "../store/store.ts";

export type { ScriptRefusal, ScriptResult } from "../managesieve/backend.ts";

export const SCRIPT_LIMITS = {
  /** Bytes of one script (the Sieve parser's own limit). */
  maxSize: DEFAULT_LIMITS.scriptSize,
  /** Scripts one account may keep. */
  maxScripts: 100,
} as const;

const OK: ScriptResult = { kind: "ok" };

/** Decodes script bytes as UTF-8, refusing malformed sequences. */
export function decodeScript(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Whether a script compiles; the error as "line L, column C: ..." when it does not. */
export function checkScript(content: string): ScriptResult {
  if (new TextEncoder().encode(content).length > SCRIPT_LIMITS.maxSize) return { kind: "too-big" };
  const compiled = compileSieve(content);
  return compiled.ok ? OK : { kind: "invalid", message: compiled.error.message };
}

export class SieveScriptService {
  constructor(private readonly store: Store) {}

  list(accountId: number): Promise<SieveScriptInfo[]> {
    return this.store.sieve.list(accountId);
  }

  /** Every script with its row id and content (JMAP for Sieve, RFC 9661). */
  scripts(accountId: number): Promise<Array<{ id: number; name: string; active: boolean; content: string }>> {
    return this.store.sieve.scripts(accountId);
  }

  get(accountId: number, name: string): Promise<string | null> {
    return this.store.sieve.get(accountId, name);
  }

  /** RFC 5804 §2.3 HAVESPACE: whether a script of `size` bytes could be stored under `name`. */
  async haveSpace(accountId: number, name: string, size: number): Promise<ScriptResult> {
    if (!validScriptName(name)) return { kind: "bad-name" };
    if (size > SCRIPT_LIMITS.maxSize) return { kind: "too-big" };
    const scripts = await this.store.sieve.list(accountId);
    if (!scripts.some((s) => s.name === name) && scripts.length >= SCRIPT_LIMITS.maxScripts) {
      return { kind: "too-many" };
    }
    return OK;
  }

  /** Creates or replaces a script after checking it; an active script stays active (RFC 5804 §2.6). */
  async put(accountId: number, name: string, content: string): Promise<ScriptResult> {
    const space = await this.haveSpace(accountId, name, new TextEncoder().encode(content).length);
    if (space.kind !== "ok") return space;
    const checked = checkScript(content);
    if (checked.kind !== "ok") return checked;
    await this.store.sieve.put(accountId, name, content);
    return OK;
  }

  /** Makes `name` the active script; null deactivates them all (RFC 5804 §2.8). */
  activate(accountId: number, name: string | null): Promise<ScriptResult> {
    return this.#refusals(() => this.store.sieve.activate(accountId, name));
  }

  delete(accountId: number, name: string): Promise<ScriptResult> {
    return this.#refusals(() => this.store.sieve.delete(accountId, name));
  }

  async rename(accountId: number, oldName: string, newName: string): Promise<ScriptResult> {
    if (!validScriptName(newName)) return { kind: "bad-name" };
    return this.#refusals(() => this.store.sieve.rename(accountId, oldName, newName));
  }

  async #refusals(change: () => Promise<void>): Promise<ScriptResult> {
    try {
      await change();
      return OK;
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      switch (e.code) {
        case "not-found":
          return { kind: "nonexistent" };
        case "exists":
          return { kind: "exists" };
        case "in-use":
          return { kind: "active" };
        case "invalid":
          return { kind: "bad-name" };
      }
    }
  }
}
