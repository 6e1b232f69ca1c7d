/**
 * What a script may ask of the store at delivery, prepared before the run since the interpreter is synchronous and
 * pure: RFC 6609 `include` of the account's stored scripts (:personal) and of the site's scripts in `sieve.globalDir`
 * (:global, files `<name>.sieve`), and RFC 7352 `duplicate` against the account's tracked values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileSieve, type SieveEnvironment, type ValidScript } from "../sieve/index.ts";
import { sha256Hex } from "../store/append.ts";
import { validScriptName } from "../store/sieve-scripts.ts";
import { log } from "../util/log.ts";

type Compiled = { script: ValidScript | null; error: string | null };
const compiled = new Map<string, Compiled>();
const COMPILED_MAX = 256;

/** A script's compiled form (or its compile error), cached by content. */
export function compileCached(content: string): Compiled {
  const hit = compiled.get(content);
  if (hit) return hit;
  const r = compileSieve(content);
  const out = r.ok ? { script: r.script, error: null } : { script: null, error: r.error.message };
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  compiled.set(content, out);
  return out;
}

/** RFC 7352: the stored form of a tracked value, "handle\0sha256(value)". */
export function duplicateKey(key: string): { handle: string; hash: string } {
  const at = key.indexOf("\u0000");
  return { handle: key.slice(0, at), hash: sha256Hex(new TextEncoder().encode(key.slice(at + 1))) };
}

/** `scripts`: the account's stored scripts (store.sieve.scripts). */
export function scriptLookups(
  scripts: readonly { name: string; content: string }[],
  script: ValidScript,
  globalDir: string | undefined,
): Pick<SieveEnvironment, "include"> {
  if (!script.capabilities.has("include")) return {};
  const personal = new Map(scripts.map((s) => [s.name, s.content]));
  return {
    include(name, location) {
      let content: string | undefined;
      if (location === "personal") content = personal.get(name);
      else if (globalDir && validScriptName(name)) {
        // validScriptName refuses "/" and control characters: the name cannot leave the directory.
        try {
          content = readFileSync(join(globalDir, `${name}.sieve`), "utf8");
        } catch (e) {
          if ((e as { code?: string }).code !== "ENOENT") {
            log.warn("global sieve script unreadable", { name, error: (e as Error).message });
          }
        }
      }
      if (content === undefined) return null;
      const { script: included, error } = compileCached(content);
      if (error) log.warn("included sieve script does not compile", { name, location, error });
      return included;
    },
  };
}
