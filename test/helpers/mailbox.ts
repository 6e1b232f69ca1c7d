/**
 * Reads a running server's mailboxes straight from its database file, so end-to-end tests can
 * check what was stored (and how) without going through another protocol.
 */
import { join } from "node:path";
import { Store } from "../../src/store/store.ts";

export interface StoredMessage {
  uid: number;
  blobHash: string;
  raw: string;
  summary: Record<string, unknown>;
  flags: string[];
}

export async function readInbox(dataDir: string, address: string): Promise<StoredMessage[]> {
  const store = await Store.open({ url: `file:${join(dataDir, "postern.db")}` });
  try {
    const account = await store.accounts.get(address);
    if (!account) throw new Error(`no account ${address}`);
    const inbox = await store.mailboxes.byRole(account.id, "inbox");
    const rows = await store.messages.list(inbox!.id);
    const full = await store.messages.withSummaries(inbox!.id, rows.map((r) => r.uid));
    const raws = await store.messages.raws(inbox!.id, rows.map((r) => r.uid));
    return rows.map((row) => ({
      uid: row.uid,
      blobHash: full.get(row.uid)!.blobHash,
      raw: new TextDecoder().decode(raws.get(row.uid)),
      summary: full.get(row.uid)!.summary as unknown as Record<string, unknown>,
      flags: row.flags,
    }));
  } finally {
    store.close();
  }
}
