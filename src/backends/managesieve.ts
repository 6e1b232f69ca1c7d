/** The ManageSieve contract (src/managesieve/backend.ts) over the store, with the shared script rules. */
import type { Banned } from "../auth/login.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type {
  ManageSieveBackend,
  ManageSievePeer,
  ScriptListing,
  ScriptResult,
  SieveAccount,
} from "../managesieve/backend.ts";
import type { Store } from "../store/store.ts";
import { checkPassword } from "./password.ts";
import { checkScript, SCRIPT_LIMITS, SieveScriptService } from "./sieve-scripts.ts";

export class StoreManageSieveBackend implements ManageSieveBackend {
  readonly limits = SCRIPT_LIMITS;
  #scripts: SieveScriptService;

  constructor(
    private readonly store: Store,
    private readonly throttle: AuthThrottle,
  ) {
    this.#scripts = new SieveScriptService(store);
  }

  authenticate(username: string, password: string, peer: ManageSievePeer): Promise<SieveAccount | null | Banned> {
    return checkPassword(this.store, this.throttle, username, password, peer.remoteAddress);
  }

  async list(account: SieveAccount): Promise<ScriptListing[]> {
    return (await this.#scripts.list(account.id)).map((s) => ({ name: s.name, active: s.active }));
  }

  get(account: SieveAccount, name: string): Promise<string | null> {
    return this.#scripts.get(account.id, name);
  }

  haveSpace(account: SieveAccount, name: string, size: number): Promise<ScriptResult> {
    return this.#scripts.haveSpace(account.id, name, size);
  }

  check(content: string): ScriptResult {
    return checkScript(content);
  }

  put(account: SieveAccount, name: string, content: string): Promise<ScriptResult> {
    return this.#scripts.put(account.id, name, content);
  }

  activate(account: SieveAccount, name: string | null): Promise<ScriptResult> {
    return this.#scripts.activate(account.id, name);
  }

  delete(account: SieveAccount, name: string): Promise<ScriptResult> {
    return this.#scripts.delete(account.id, name);
  }

  rename(account: SieveAccount, oldName: string, newName: string): Promise<ScriptResult> {
    return this.#scripts.rename(account.id, oldName, newName);
  }
}
