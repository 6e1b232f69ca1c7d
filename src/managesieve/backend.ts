/**
 * What the ManageSieve session (RFC 5804) needs from the rest of Postern: password checks and the account's scripts.
 * `src/backends/managesieve.ts` implements it over the store with the rules of `src/backends/sieve-scripts.ts`.
 */
import type { Banned } from "../auth/login.ts";
import type { TlsInfo } from "../connection.ts";

export interface SieveAccount {
  id: number;
  address: string;
}

export interface ManageSievePeer {
  remoteAddress: string;
  tls: TlsInfo | null;
}

/** Why a script or a change was refused; each protocol words its own reply. */
export type ScriptRefusal =
  /** The name is empty, too long (128), or holds a control character or "/" (RFC 5804 §1.6). */
  | { kind: "bad-name" }
  /** Not UTF-8 (RFC 5804 §2.6), or the Sieve error with its line and column. */
  | { kind: "invalid"; message: string }
  /** RFC 5804 §1.3 QUOTA/MAXSIZE. */
  | { kind: "too-big" }
  /** RFC 5804 §1.3 QUOTA/MAXSCRIPTS. */
  | { kind: "too-many" }
  | { kind: "nonexistent" }
  | { kind: "exists" }
  /** RFC 5804 §2.10: the active script cannot be deleted. */
  | { kind: "active" };

export type ScriptResult = { kind: "ok" } | ScriptRefusal;

export interface ScriptListing {
  name: string;
  active: boolean;
}

export interface ManageSieveBackend {
  authenticate(username: string, password: string, peer: ManageSievePeer): Promise<SieveAccount | null | Banned>;
  /** The most each script may hold, in bytes, and the most scripts an account may keep (advertised in the docs). */
  readonly limits: { maxSize: number; maxScripts: number };
  list(account: SieveAccount): Promise<ScriptListing[]>;
  get(account: SieveAccount, name: string): Promise<string | null>;
  haveSpace(account: SieveAccount, name: string, size: number): Promise<ScriptResult>;
  /** Checks the script (CHECKSCRIPT, RFC 5804 §2.12) without storing it. */
  check(content: string): ScriptResult;
  put(account: SieveAccount, name: string, content: string): Promise<ScriptResult>;
  /** null deactivates every script (SETACTIVE "", RFC 5804 §2.8). */
  activate(account: SieveAccount, name: string | null): Promise<ScriptResult>;
  delete(account: SieveAccount, name: string): Promise<ScriptResult>;
  rename(account: SieveAccount, oldName: string, newName: string): Promise<ScriptResult>;
}
