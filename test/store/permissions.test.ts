/**
 * Files that hold mail, password hashes or private keys are the owner's alone: directories Postern creates
 * are 0700, the database with its WAL and shared-memory index, DKIM keys and the self-signed TLS key 0600.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { generateDkimKey } from "../../src/forward/dkim.ts";
import { loadOrCreateCertificate } from "../../src/net/certificate.ts";
import { openDatabase } from "../../src/store/db.ts";
import { migrate } from "../../src/store/migrate.ts";
import { tempDir } from "../helpers/tmp.ts";

const mode = (path: string) => statSync(path).mode & 0o777;
// POSIX modes mean nothing on Windows.
const posix = process.platform !== "win32";

let dir: ReturnType<typeof tempDir>;
let dataDir: string;
beforeEach(() => {
  dir = tempDir();
  dataDir = join(dir.path, "data", "nested");
});
afterEach(() => dir.cleanup());

describe.skipIf(!posix)("file permissions", () => {
  test("a new database: its directories 0700, the file, WAL and shm 0600", async () => {
    const path = join(dataDir, "postern.db");
    const { client } = await openDatabase({ url: pathToFileURL(path).href });
    try {
      await migrate(client);
      await client.execute("CREATE TABLE t (x TEXT)");
      await client.execute("INSERT INTO t VALUES ('written')");
      expect(mode(join(dir.path, "data"))).toBe(0o700);
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(path)).toBe(0o600);
      expect(existsSync(`${path}-wal`)).toBe(true);
      expect(mode(`${path}-wal`)).toBe(0o600);
      expect(mode(`${path}-shm`)).toBe(0o600);
    } finally {
      client.close();
    }
  });

  test("an existing database is tightened; an existing directory is left as the user made it", async () => {
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const path = join(dataDir, "postern.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const { client } = await openDatabase({ url: `file:${path}` });
    try {
      await client.execute("CREATE TABLE t (x TEXT)");
      expect(mode(dataDir)).toBe(0o755);
      expect(mode(path)).toBe(0o600);
      expect(mode(`${path}-wal`)).toBe(0o600);
    } finally {
      client.close();
    }
  });

  test("a generated DKIM key is 0600 in a 0700 directory", () => {
    const { path } = generateDkimKey(dataDir, "example.com", "s1", "ed25519");
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dataDir, "dkim"))).toBe(0o700);
    expect(mode(dataDir)).toBe(0o700);
    // Replacing a key that had been opened up restricts it again.
    chmodSync(path, 0o644);
    generateDkimKey(dataDir, "example.com", "s1", "ed25519");
    expect(mode(path)).toBe(0o600);
  });

  test("the self-signed TLS key is 0600 in a 0700 directory", async () => {
    await loadOrCreateCertificate({ hostname: "mx.postern.test", dataDir });
    expect(mode(join(dataDir, "tls", "selfsigned.key"))).toBe(0o600);
    expect(mode(join(dataDir, "tls"))).toBe(0o700);
    expect(mode(dataDir)).toBe(0o700);
  });
});
