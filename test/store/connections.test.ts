import { afterEach, expect, test } from "bun:test";
import { type Client, createClient } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db.ts";

const open: Client[] = [];
let dir = "";
afterEach(() => {
  for (const c of open.splice(0)) c.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Two clients on one file stand for two processes: each has its own pool of connections.
test("a BEGIN IMMEDIATE refused as busy leaves no old snapshot behind: the next read on that connection sees the other writer's commit", async () => {
  dir = mkdtempSync(join(tmpdir(), "postern-conn-"));
  const url = `file:${join(dir, "t.db")}`;
  const a = (await openDatabase({ url })).client; // sets up every connection: busy_timeout 0, no busy handler
  open.push(a);
  await a.execute("CREATE TABLE t (x INTEGER)");
  const b = createClient({ url }); // the driver itself, without the store's retry on SQLITE_BUSY
  open.push(b);
  expect(Number((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n)).toBe(0);

  const writer = await a.transaction("write");
  await expect(b.transaction("write")).rejects.toThrow(/BUSY|locked/i);
  await writer.execute("INSERT INTO t VALUES (1)");
  await writer.commit();

  // The pool hands b the same connection that ran the refused BEGIN, each time.
  const count = async () => Number((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n);
  expect(await count()).toBe(1);
  await a.execute("INSERT INTO t VALUES (2)");
  expect(await count()).toBe(2); // was 1: the refused BEGIN, still active, held the first read's snapshot
  const again = await b.transaction("write"); // and it can write once the lock is free
  await again.execute("INSERT INTO t VALUES (3)");
  await again.commit();
  expect(Number((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n)).toBe(3);
});
