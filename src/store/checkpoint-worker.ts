/**
 * The checkpointer's thread (checkpointer.ts): its own connection to the database file, on which it copies the WAL
 * into the database when asked. SQLite syncs both files during a checkpoint; here that wait blocks only this thread.
 *
 * A PASSIVE checkpoint copies what is committed without waiting for anyone. While writers keep appending, the WAL
 * only restarts from its beginning when a checkpoint has copied everything and no reader needs it, which a busy
 * server may never leave time for; so once the WAL is past RESTART_FRAMES, a RESTART checkpoint waits for the
 * writers (up to the busy timeout: the store's writes retry meanwhile without blocking their thread) and lets the
 * next writer start the WAL over.
 */
import Database from "libsql";

/** WAL frames (pages) after which a checkpoint waits for the writers so the WAL restarts: 32 MiB of 4 KiB pages. */
const RESTART_FRAMES = 8192;

interface Self {
  onmessage: ((event: MessageEvent<string | { close: true }>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
const port = globalThis as unknown as Self;

let db: InstanceType<typeof Database> | null = null;

port.onmessage = (event) => {
  if (typeof event.data !== "string") {
    // Closed here, not torn down with the process: a native connection ended by the runtime's exit can abort it.
    db?.close();
    db = null;
    port.postMessage({ closed: true });
    port.close();
    return;
  }
  try {
    if (!db) {
      db = new Database(event.data);
      // How long a RESTART waits for writers and WAL readers, holding new writers back meanwhile; when that is not
      // enough it answers busy and the next request tries again.
      db.exec("PRAGMA busy_timeout = 250");
    }
    // [busy, frames in the WAL, frames copied]
    const [busy, frames] = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").raw(true).get([]) as number[];
    if (!busy && frames! >= RESTART_FRAMES) db.prepare("PRAGMA wal_checkpoint(RESTART)").raw(true).get([]);
    port.postMessage({ ok: true });
  } catch (e) {
    // Busy (another process checkpoints, or the writers held on past the timeout): the next request tries again.
    port.postMessage({ ok: false, error: String(e) });
  }
};
