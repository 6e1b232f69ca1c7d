/**
 * The Sieve scripts of each account (issue 21): named scripts, at most one active (RFC 5804 §1.1: the one run at
 * delivery). Scripts are checked by the caller (src/sieve/) before they are stored; this file only keeps them.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { ChangeOp, ChangeRecorder } from "./change-log.ts";
import type { Db, Tx } from "./db.ts";
import { StoreError } from "./errors.ts";
import { sieveDuplicates, sieveScripts, sieveVacationReplies } from "./schema.ts";
import type { Store } from "./store.ts";

export interface SieveScriptInfo {
  name: string;
  active: boolean;
  size: number;
  updatedAt: Date;
}

/** RFC 5804 §1.6: a script name is 1..128 characters, no control characters, no "/" (kept simple and portable). */
export function validScriptName(name: string): boolean {
  return name.length >= 1 && name.length <= 128 && !/[\x00-\x1f\x7f/]/.test(name);
}

/** How long the set of accounts that have scripts is trusted (other processes' changes show within this). */
const HOLDERS_TTL_MS = 1000;

export class SieveScriptRepository {
  /** Accounts that have at least one script, and when that was read: delivery asks for every recipient. */
  #holders: { accounts: Set<number>; readAt: number } | null = null;

  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /**
   * Whether the account has any script, from a set of such accounts read at most once a second, so delivering to
   * the many accounts without Sieve costs no query (a change made by this process is seen at once, one made by
   * another process within a second, like the directory's cache).
   */
  async hasScripts(accountId: number, now = Date.now()): Promise<boolean> {
    if (!this.#holders || now - this.#holders.readAt >= HOLDERS_TTL_MS) {
      const rows = await this.db.selectDistinct({ accountId: sieveScripts.accountId }).from(sieveScripts);
      this.#holders = { accounts: new Set(rows.map((r) => r.accountId)), readAt: now };
    }
    return this.#holders.accounts.has(accountId);
  }

  /** A write by this process: the next `hasScripts` reads the set again. */
  #changed<T>(result: Promise<T>): Promise<T> {
    return result.finally(() => (this.#holders = null));
  }

  async list(accountId: number): Promise<SieveScriptInfo[]> {
    const rows = await this.db.select().from(sieveScripts).where(eq(sieveScripts.accountId, accountId)).orderBy(
      asc(sieveScripts.name),
    );
    return rows.map((r) => ({
      name: r.name,
      active: r.active,
      size: new TextEncoder().encode(r.content).length,
      updatedAt: r.updatedAt,
    }));
  }

  /** Every script with its row id (stable across renames: JMAP's SieveScript id, RFC 9661 §2) and content. */
  async scripts(accountId: number): Promise<Array<{ id: number; name: string; active: boolean; content: string }>> {
    return await this.db.select({
      id: sieveScripts.id,
      name: sieveScripts.name,
      active: sieveScripts.active,
      content: sieveScripts.content,
    }).from(sieveScripts).where(eq(sieveScripts.accountId, accountId)).orderBy(asc(sieveScripts.name));
  }

  async get(accountId: number, name: string): Promise<string | null> {
    const [row] = await this.db.select({ content: sieveScripts.content }).from(sieveScripts).where(
      and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.name, name)),
    );
    return row?.content ?? null;
  }

  /** The active script, if any: what delivery runs. */
  async active(accountId: number): Promise<{ name: string; content: string } | null> {
    const [row] = await this.db.select({ name: sieveScripts.name, content: sieveScripts.content }).from(sieveScripts)
      .where(and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.active, true)));
    return row ?? null;
  }

  /** Creates or replaces a script; an active script stays active. */
  put(accountId: number, name: string, content: string): Promise<void> {
    if (!validScriptName(name)) throw new StoreError("invalid", `Invalid script name ${JSON.stringify(name)}`);
    return this.#changed(this.store.write(async (tx, changes) => {
      await this.#upsert(tx, changes, accountId, name, content);
    }));
  }

  /** Writes a script by name and logs it as JMAP's SieveScript (RFC 9661 §2: /changes); returns its id. */
  async #upsert(tx: Tx, changes: ChangeRecorder, accountId: number, name: string, content: string): Promise<number> {
    const [before] = await tx.select({ id: sieveScripts.id }).from(sieveScripts).where(
      and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.name, name)),
    );
    const [row] = await tx.insert(sieveScripts).values({ accountId, name, content }).onConflictDoUpdate({
      target: [sieveScripts.accountId, sieveScripts.name],
      set: { content, updatedAt: new Date() },
    }).returning({ id: sieveScripts.id });
    await this.#log(changes, accountId, row!.id, before ? "updated" : "created");
    return row!.id;
  }

  #log(changes: ChangeRecorder, accountId: number, id: number, op: ChangeOp): Promise<number> {
    return changes.add({ accountId, mailboxId: null, type: "sieve", objectId: id, op });
  }

  /**
   * Writes a script Postern manages (JMAP's VacationResponse, issue 21) and makes it the active one when the account
   * has none, in one transaction.
   */
  putManaged(accountId: number, name: string, content: string): Promise<void> {
    return this.#changed(this.store.write(async (tx, changes) => {
      const id = await this.#upsert(tx, changes, accountId, name, content);
      const [active] = await tx.select({ id: sieveScripts.id }).from(sieveScripts).where(
        and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.active, true)),
      );
      if (!active) await tx.update(sieveScripts).set({ active: true }).where(eq(sieveScripts.id, id));
    }));
  }

  /** Makes `name` the active script, or deactivates every script when `name` is null (RFC 5804 §2.8). */
  activate(accountId: number, name: string | null): Promise<void> {
    return this.#changed(this.store.write(async (tx, changes) => {
      let target: number | null = null;
      if (name !== null) {
        const [row] = await tx.select({ id: sieveScripts.id }).from(sieveScripts).where(
          and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.name, name)),
        );
        if (!row) throw new StoreError("not-found", `No script named ${JSON.stringify(name)}`);
        target = row.id;
      }
      const was = await tx.update(sieveScripts).set({ active: false })
        .where(and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.active, true)))
        .returning({ id: sieveScripts.id });
      if (target !== null) await tx.update(sieveScripts).set({ active: true }).where(eq(sieveScripts.id, target));
      // isActive changed on the scripts that were active and on the one that is now, unless they are the same.
      for (const id of new Set([...was.map((r) => r.id), ...(target === null ? [] : [target])])) {
        if (id !== target || !was.some((r) => r.id === id)) await this.#log(changes, accountId, id, "updated");
      }
    }));
  }

  /** Deletes a script; RFC 5804 §2.10: the active script cannot be deleted. */
  delete(accountId: number, name: string): Promise<void> {
    return this.#changed(this.store.write(async (tx, changes) => {
      const [row] = await tx.select({ id: sieveScripts.id, active: sieveScripts.active }).from(sieveScripts).where(
        and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.name, name)),
      );
      if (!row) throw new StoreError("not-found", `No script named ${JSON.stringify(name)}`);
      if (row.active) throw new StoreError("in-use", `Script ${JSON.stringify(name)} is active; deactivate it first`);
      await tx.delete(sieveScripts).where(eq(sieveScripts.id, row.id));
      await this.#log(changes, accountId, row.id, "destroyed");
    }));
  }

  /**
   * Renames a script, keeping its content and whether it is active (RFC 5804 §2.11.1); `newName` must not be taken.
   */
  rename(accountId: number, oldName: string, newName: string): Promise<void> {
    if (!validScriptName(newName)) throw new StoreError("invalid", `Invalid script name ${JSON.stringify(newName)}`);
    return this.#changed(this.store.write(async (tx, changes) => {
      const named = (name: string) => and(eq(sieveScripts.accountId, accountId), eq(sieveScripts.name, name));
      const [row] = await tx.select({ id: sieveScripts.id }).from(sieveScripts).where(named(oldName));
      if (!row) throw new StoreError("not-found", `No script named ${JSON.stringify(oldName)}`);
      if (oldName === newName) return;
      const [taken] = await tx.select({ id: sieveScripts.id }).from(sieveScripts).where(named(newName));
      if (taken) throw new StoreError("exists", `A script named ${JSON.stringify(newName)} exists`);
      await tx.update(sieveScripts).set({ name: newName, updatedAt: new Date() }).where(eq(sieveScripts.id, row.id));
      await this.#log(changes, accountId, row.id, "updated");
    }));
  }

  /**
   * RFC 5230 §4.2: whether a reply under `handle` went to `sender` within `seconds`. Read only: delivery records the
   * reply in its own transaction (recordSieve in sieve-delivery.ts), so a delivery that fails records nothing.
   */
  async vacationSentWithin(accountId: number, handle: string, sender: string, seconds: number, now = new Date()) {
    const [row] = await this.db.select({ sentAt: sieveVacationReplies.sentAt }).from(sieveVacationReplies).where(
      and(
        eq(sieveVacationReplies.accountId, accountId),
        eq(sieveVacationReplies.handle, handle),
        eq(sieveVacationReplies.sender, sender.toLowerCase()),
      ),
    );
    return row !== undefined && now.getTime() - row.sentAt.getTime() < seconds * 1000;
  }

  /** RFC 7352: the values tracked for the account that have not expired, as "handle\0hash". */
  async duplicates(accountId: number, now = new Date()): Promise<Set<string>> {
    const rows = await this.db.select({ handle: sieveDuplicates.handle, hash: sieveDuplicates.hash }).from(
      sieveDuplicates,
    ).where(and(eq(sieveDuplicates.accountId, accountId), gt(sieveDuplicates.expiresAt, now)));
    return new Set(rows.map((r) => `${r.handle}\u0000${r.hash}`));
  }
}
