/**
 * Checkpoints off the JavaScript thread (issue 15, item 1: never block the event loop on the disk).
 *
 * In WAL mode SQLite copies the log back into the database file every 1000 pages, on the connection that just
 * committed, syncing both files on the way: under SMTP load that stalled every session of the process for the time
 * of two fsyncs every few hundred messages. The store's connections therefore never checkpoint
 * (`wal_autocheckpoint = 0`, set by `Store.checkpointInBackground`); the store asks this checkpointer after its commits, at most every INTERVAL_MS,
 * and a worker thread with its own connection does it (checkpoint-worker.ts). Where a worker cannot start, the
 * checkpoint runs here as before.
 */
import { log } from "../util/log.ts";

/** The least time between two checkpoints while writes go on. */
const INTERVAL_MS = 250;

/**
 * The worker's module. In the compiled binary every module is bundled into the entrypoint (src/main.ts), so
 * `import.meta.url` is that of main.ts, and the worker, a second entrypoint there (scripts/build.ts), is found
 * by its path from src/.
 */
function workerUrl(): string {
  const bundled = import.meta.url.includes("/$bunfs/");
  return new URL(bundled ? "./store/checkpoint-worker.ts" : "./checkpoint-worker.ts", import.meta.url).href;
}

export class Checkpointer {
  #worker: Worker | null = null;
  #failed = false;
  #running = false;
  #last = 0;
  #closed = false;

  /** `path`: the database file; `fallback`: a checkpoint on this thread, where no worker can run. */
  constructor(private readonly path: string, private readonly fallback: () => Promise<unknown>) {}

  /** After a commit: starts a checkpoint unless one runs or ran less than INTERVAL_MS ago. */
  committed(): void {
    const now = Date.now();
    if (this.#closed || this.#running || now - this.#last < INTERVAL_MS) return;
    this.#last = now;
    this.#running = true;
    const worker = this.#start();
    if (worker) worker.postMessage(this.path);
    else {
      void this.fallback().catch((error) => log.warn("checkpoint failed", { error })).finally(() => {
        this.#running = false;
      });
    }
  }

  /**
   * Stops checkpointing: the thread closes its connection and ends (waiting for a checkpoint it is in), at most
   * `waitMs`. A process that exits with the thread's connection still open may abort in the driver.
   */
  async close(waitMs = 3000): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    if (!worker) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      worker.onmessage = (event: MessageEvent<{ closed?: boolean }>) => event.data.closed && resolve();
      worker.onerror = () => resolve();
      timer = setTimeout(resolve, waitMs);
      worker.postMessage({ close: true });
    });
    clearTimeout(timer);
    worker.terminate();
  }

  #start(): Worker | null {
    if (this.#worker || this.#failed) return this.#worker;
    try {
      const worker = new Worker(workerUrl(), { type: "module" });
      worker.onmessage = (event: MessageEvent<{ ok: boolean; error?: string }>) => {
        this.#running = false;
        if (!event.data.ok && !/busy|locked/i.test(event.data.error ?? "")) {
          log.warn("checkpoint failed", { error: event.data.error });
        }
      };
      worker.onerror = (event) => {
        log.warn("checkpoint thread failed; checkpoints run on the main thread", { error: event.message });
        this.#failed = true;
        this.#worker = null;
        this.#running = false;
        worker.terminate();
      };
      // The process may end while this thread idles.
      (worker as { unref?: () => void }).unref?.();
      return this.#worker = worker;
    } catch (error) {
      log.warn("cannot start the checkpoint thread; checkpoints run on the main thread", { error });
      this.#failed = true;
      return null;
    }
  }
}
