import { join } from "node:path";
import { Store } from "../../src/store/store.ts";

/** Recipients still waiting in the outbound queue of the server whose data directory this is. */
export async function pendingRecipients(dataDir: string): Promise<number> {
  const store = await Store.open({ url: `file:${join(dataDir, "postern.db")}` });
  try {
    return (await store.queue.list()).flatMap((m) => m.recipients).filter((r) => r.status === "pending").length;
  } finally {
    store.close();
  }
}

/**
 * Waits until the queues of every data directory have had nothing pending for two seconds (and
 * `ready`, when given, holds): mail that goes round, like a forwarding loop and its bounce, has
 * settled. Throws after `timeoutMs` with the count still queued.
 */
export async function untilQueuesDrain(
  dataDirs: string[],
  options: { timeoutMs: number; ready?: () => boolean },
): Promise<void> {
  const started = Date.now();
  let quietSince = 0;
  for (;;) {
    let busy = 0;
    for (const dir of dataDirs) busy += await pendingRecipients(dir);
    if (busy === 0 && (options.ready?.() ?? true)) {
      quietSince ||= Date.now();
      if (Date.now() - quietSince > 2000) return;
    } else quietSince = 0;
    if (Date.now() - started > options.timeoutMs) {
      throw new Error(`the queues did not drain: ${busy} recipients still queued`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
