/**
 * Another process on the same database, for test/queue/lease.test.ts. It opens the store, says
 * "ready", waits for a line on stdin, then:
 *   drain <db> <limit> <leaseMs>  claims in rounds of <limit> until nothing is left, printing the
 *                                 ids it got as one JSON array;
 *   hold <db> <leaseMs> [owner]   claims once (as `owner`, default this process), prints the ids,
 *                                 and waits to be killed without recording anything (a process
 *                                 dying mid-delivery; an owner naming another host stands for a
 *                                 server on another machine).
 */
import { Store } from "../../src/store/store.ts";

const [mode, path, ...rest] = process.argv.slice(2);
const store = await Store.open({ url: `file:${path}` });
const say = (line: string) => process.stdout.write(`${line}\n`);
say("ready");
for await (const _chunk of process.stdin) break;

if (mode === "drain") {
  const [limit, leaseMs] = rest.map(Number);
  const ids: number[] = [];
  // Bounded, so claims that never run out (a broken lease) end the test rather than hang it.
  for (let round = 0; round < 1000; round++) {
    const rows = await store.queue.claim(store.instanceId, new Date(), leaseMs!, limit!);
    if (!rows.length) break;
    ids.push(...rows.map((r) => r.id));
    // Some work between claims, so the two processes' claims interleave.
    await Bun.sleep(2);
  }
  say(JSON.stringify(ids));
  store.close();
} else if (mode === "hold") {
  const rows = await store.queue.claim(rest[1] ?? store.instanceId, new Date(), Number(rest[0]), 500);
  say(JSON.stringify(rows.map((r) => r.id)));
  await new Promise(() => {});
} else {
  throw new Error(`unknown mode ${mode}`);
}
