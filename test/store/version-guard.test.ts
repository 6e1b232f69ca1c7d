/**
 * A database migrated by a newer build is refused: the store, `postern serve`, `postern migrate` and
 * `createPostern` all stop with `SchemaTooNewError`, naming the database's newest migration and this build's.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPostern } from "../../src/index.ts";
import { openDatabase } from "../../src/store/db.ts";
import { SchemaTooNewError } from "../../src/store/errors.ts";
import { migrate } from "../../src/store/migrate.ts";
import { MIGRATIONS } from "../../src/store/migrations.generated.ts";
import { posternCommand, ROOT } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";

const FUTURE = "9999_future";
const NEWEST_KNOWN = MIGRATIONS[MIGRATIONS.length - 1]!.tag;

let dir: ReturnType<typeof tempDir>;
let dataDir: string;
beforeEach(() => {
  dir = tempDir();
  dataDir = join(dir.path, "data");
});
afterEach(() => dir.cleanup());

/** A database in `dataDir` migrated by this build (or only its first `count` migrations), then marked by a newer one. */
async function futureDatabase(count = MIGRATIONS.length): Promise<string> {
  const url = `file:${join(dataDir, "postern.db")}`;
  const { client } = await openDatabase({ url });
  try {
    await migrate(client, MIGRATIONS.slice(0, count));
    await client.execute({
      sql: "INSERT INTO __postern_migrations (tag, applied_at) VALUES (?, ?)",
      args: [FUTURE, Date.now()],
    });
  } finally {
    client.close();
  }
  return url;
}

async function ledger(url: string): Promise<string[]> {
  const { client } = await openDatabase({ url });
  try {
    return (await client.execute("SELECT tag FROM __postern_migrations ORDER BY tag")).rows.map((r) => String(r.tag));
  } finally {
    client.close();
  }
}

describe("version guard", () => {
  test("migrate refuses a database with an unknown migration, naming both tags", async () => {
    const url = await futureDatabase();
    const { client } = await openDatabase({ url });
    try {
      const error = await migrate(client).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaTooNewError);
      const e = error as SchemaTooNewError;
      expect(e.databaseTag).toBe(FUTURE);
      expect(e.knownTag).toBe(NEWEST_KNOWN);
      expect(e.message).toContain(`its newest migration is ${FUTURE}`);
      expect(e.message).toContain(`up to ${NEWEST_KNOWN}`);
      expect(e.message).toContain("restore a backup");
    } finally {
      client.close();
    }
  });

  test("nothing is applied to a newer database, even migrations it lacks", async () => {
    const url = await futureDatabase(1);
    const { client } = await openDatabase({ url });
    try {
      await expect(migrate(client)).rejects.toBeInstanceOf(SchemaTooNewError);
    } finally {
      client.close();
    }
    expect(await ledger(url)).toEqual([MIGRATIONS[0]!.tag, FUTURE]);
  });

  test("the newest of several unknown migrations is the one named", async () => {
    const url = await futureDatabase();
    const { client } = await openDatabase({ url });
    try {
      await client.execute({
        sql: "INSERT INTO __postern_migrations (tag, applied_at) VALUES (?, ?)",
        args: ["10000_further", Date.now()],
      });
      const error = (await migrate(client).catch((e: unknown) => e)) as SchemaTooNewError;
      expect(error.databaseTag).toBe("10000_further");
      expect(error.unknownTags).toEqual([FUTURE, "10000_further"]);
    } finally {
      client.close();
    }
  });

  test("createPostern rejects with SchemaTooNewError", async () => {
    await futureDatabase();
    const listeners = {
      smtp: false,
      submission: false,
      submissions: false,
      imap: false,
      imaps: false,
      pop3: false,
      pop3s: false,
      managesieve: false,
      http: false,
    } as const;
    await expect(createPostern({ config: { hostname: "mx.postern.test", dataDir, listeners } })).rejects.toBeInstanceOf(
      SchemaTooNewError,
    );
  });

  // The real binary path: the CLI exits non-zero with the message and no stack trace.
  for (const command of ["serve", "migrate"]) {
    test(`postern ${command} exits 1 with the message on stderr`, async () => {
      await futureDatabase();
      const configFile = join(dir.path, "postern.json");
      const listener = { host: "127.0.0.1", port: 0 };
      const listeners = Object.fromEntries(
        ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "managesieve", "http"].map((n) => [
          n,
          listener,
        ]),
      );
      writeFileSync(configFile, JSON.stringify({ hostname: "mx.postern.test", dataDir, listeners }));
      const proc = Bun.spawn(posternCommand([command, "--config", configFile]), {
        cwd: ROOT,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      // Should the guard fail, a server would run for ever: stop it so the test fails rather than hangs.
      const guard = setTimeout(() => proc.kill("SIGKILL"), 3_000);
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      clearTimeout(guard);
      expect(code).toBe(1);
      expect(stderr).toContain(
        `postern: The database was migrated by a newer Postern: its newest migration is ${FUTURE}`,
      );
      expect(stderr).toContain(`this build knows migrations only up to ${NEWEST_KNOWN}`);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr).not.toContain("listening");
    });
  }
});
