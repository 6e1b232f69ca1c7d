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
    const rows = await store.messages.listMailbox(inbox!.id);
    return await Promise.all(
      rows.map(async (row) => ({
        uid: row.uid,
        blobHash: row.blobHash,
        raw: new TextDecoder().decode(await store.messages.readBlob(row.blobHash)),
        summary: row.summary,
        flags: row.flags,
      })),
    );
  } finally {
    store.close();
  }
}
