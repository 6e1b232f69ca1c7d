/**
 * `postern backup <file>` and `postern restore <file>` (issue 20, item 7). A backup is one tar
 * archive (src/util/tar.ts):
 *
 * - `data/postern.db`: a consistent snapshot of the database taken while the server runs
 *   (`VACUUM INTO`, store/backup.ts), so every message acknowledged before it started is in it;
 * - `data/…`: the rest of the data directory (DKIM keys, TLS keys), not the spool or run/;
 * - `config/postern.json`: the config file; `config/secrets.json`: the secrets in effect (from the
 *   file or `POSTERN_*` variables); `config/files/…`: key files the config names outside the data
 *   directory (`tls.cert`, `tls.key`, DKIM keys, `webhooks.caFile`);
 * - `manifest.json` last: every entry's size and SHA-256, checked by `restore`.
 *
 * `restore` writes into an empty (or missing) data directory only, and removes what it wrote if
 * anything fails, so it never leaves half a data directory.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { checkDatabase, snapshotDatabase } from "../store/backup.ts";
import { readTar, TarWriter } from "../util/tar.ts";
import { VERSION } from "../util/version.ts";
import { parse, UsageError } from "./args.ts";

export const BACKUP_USAGE = `Usage:
  postern backup <file>                  write a consistent copy of the database, the data directory's
                                         keys, the config file and its secrets to a new tar archive;
                                         safe while the server runs
  postern restore <file> [--data-dir DIR]
                                         restore a backup into an empty data directory (the config's
                                         dataDir, or DIR); the config file and secrets go to
                                         <dataDir>/restored-config/`;

const FORMAT = "postern-backup";

interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
  /** For config/files/…: where the config named it. */
  source?: string;
}

interface Manifest {
  format: typeof FORMAT;
  version: 1;
  postern: string;
  createdAt: string;
  hostname: string;
  files: ManifestFile[];
}

/** The database file behind a `file:` URL, or null for a libSQL server. */
function databasePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const rest = url.slice("file:".length).split("?")[0]!;
  return resolve(rest.startsWith("//") ? fileURLToPath(url.split("?")[0]!) : rest);
}

/** Every regular file under `dir` (relative, with /), depth first, skipping what `skip` says. */
function walk(dir: string, skip: (path: string) => boolean, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (skip(path)) continue;
    const stat = lstatSync(path);
    if (stat.isDirectory()) out.push(...walk(path, skip, base));
    else if (stat.isFile()) out.push(relative(base, path).split(sep).join("/"));
  }
  return out;
}

/** The secrets in effect: what a restored server needs to go on as before. */
function secretsOf(config: Config): Record<string, unknown> {
  const secrets: Record<string, unknown> = {
    "srs.secret": config.srs.secret,
    "api.adminToken": config.api.adminToken,
    "webhooks.secret": config.webhooks.secret,
    "delivery.relayAuth": config.delivery.relayAuth,
    "database.authToken": config.database.authToken,
  };
  return Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== undefined));
}

export async function backupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, BACKUP_USAGE);
  if (positionals.length !== 1) throw new UsageError("backup takes one archive file name", BACKUP_USAGE);
  const target = resolve(positionals[0]!);
  const configFile = values.config ?? process.env.POSTERN_CONFIG;
  const config = loadConfig({ file: values.config });
  const dbPath = databasePath(config.database.url);
  if (!dbPath) {
    console.error(`postern: database.url is a libSQL server: back it up with its own tools`);
    return 1;
  }
  if (existsSync(target)) {
    console.error(`postern: ${target} exists; a backup is written to a new file`);
    return 1;
  }
  // The snapshot goes beside the archive, so it is on a disk with room for it, and is removed after.
  const snapshot = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString("hex")}.db`);
  const files: ManifestFile[] = [];
  let tar: TarWriter | undefined;
  try {
    await snapshotDatabase(config.database, snapshot);
    tar = new TarWriter(target);
    const add = (name: string, path: string, source?: string) => {
      const hash = createHash("sha256");
      const size = tar!.addFile(name, path, 0o600, (chunk) => hash.update(chunk));
      files.push({ name, size, sha256: hash.digest("hex"), ...(source ? { source } : {}) });
    };
    const addBytes = (name: string, bytes: Uint8Array) => {
      tar!.addBytes(name, bytes);
      files.push({ name, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    };
    add("data/postern.db", snapshot);
    // Not the spool (messages still arriving) nor run/ (the workers' metrics): nothing to restore.
    const transient = [join(config.dataDir, "spool"), join(config.dataDir, "run")];
    const skip = (path: string) =>
      transient.includes(path) || path.startsWith(dbPath) || path === target || path === snapshot;
    for (const file of walk(config.dataDir, skip)) add(`data/${file}`, join(config.dataDir, file));
    if (configFile) add("config/postern.json", resolve(configFile));
    addBytes("config/secrets.json", new TextEncoder().encode(`${JSON.stringify(secretsOf(config), null, 2)}\n`));
    const named = [
      config.tls.cert,
      config.tls.key,
      config.webhooks.caFile,
      ...Object.values(config.dkim).map((k) => k.privateKey),
    ];
    const inDataDir = (path: string) => !relative(config.dataDir, path).startsWith("..");
    const outside = [
      ...new Set(named.filter((p): p is string => !!p).map((p) => resolve(config.configDir ?? process.cwd(), p))),
    ]
      .filter((p) => !inDataDir(p));
    outside.forEach((path, i) => add(`config/files/${i + 1}-${basename(path)}`, path, path));
    const manifest: Manifest = {
      format: FORMAT,
      version: 1,
      postern: VERSION,
      createdAt: new Date().toISOString(),
      hostname: config.hostname,
      files,
    };
    tar.addBytes("manifest.json", new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
    tar.close();
    tar = undefined;
  } catch (e) {
    tar?.close();
    if (tar) rmSync(target, { force: true });
    throw e;
  } finally {
    rmSync(snapshot, { force: true });
  }
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  console.error(`wrote ${target}: ${files.length} files, ${bytes} bytes (database ${files[0]!.size} bytes)`);
  return 0;
}

/** An entry name that stays inside its directory: relative, no `..`, no empty segment. */
function safeName(name: string): boolean {
  return !name.startsWith("/") && name.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

export async function restoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { "data-dir": { type: "string" } }, BACKUP_USAGE);
  if (positionals.length !== 1) throw new UsageError("restore takes one archive file name", BACKUP_USAGE);
  const archive = resolve(positionals[0]!);
  const config = values["data-dir"] === undefined ? loadConfig({ file: values.config }) : undefined;
  const dataDir = resolve(values["data-dir"] ?? config!.dataDir);
  const dbPath = config ? databasePath(config.database.url) : join(dataDir, "postern.db");
  if (!dbPath) {
    console.error("postern: database.url is a libSQL server: restore into a file: database (--data-dir DIR)");
    return 1;
  }
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    console.error(`postern: ${dataDir} is not empty; restore only into an empty or new data directory`);
    return 1;
  }
  if (existsSync(dbPath)) {
    console.error(`postern: ${dbPath} exists; restore only where there is no database yet`);
    return 1;
  }
  if (!existsSync(archive)) {
    console.error(`postern: no such archive: ${archive}`);
    return 1;
  }
  const created = !existsSync(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  try {
    const seen = new Map<string, { size: number; sha256: string }>();
    let manifest: Manifest | undefined;
    for (const entry of readTar(archive)) {
      if (entry.name === "manifest.json") {
        const chunks: Uint8Array[] = [];
        entry.read((c) => chunks.push(c.slice()));
        manifest = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Manifest;
        continue;
      }
      if (!safeName(entry.name)) throw new Error(`unsafe name in the archive: ${entry.name}`);
      const [top, ...rest] = entry.name.split("/");
      const path = entry.name === "data/postern.db"
        ? dbPath
        : top === "data"
        ? join(dataDir, ...rest)
        : top === "config"
        ? join(dataDir, "restored-config", ...rest)
        : undefined;
      if (!path) throw new Error(`unexpected entry in the archive: ${entry.name}`);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const fd = openSync(path, "wx", 0o600);
      written.push(path);
      const hash = createHash("sha256");
      try {
        entry.read((chunk) => {
          hash.update(chunk);
          writeSync(fd, chunk);
        });
      } finally {
        closeSync(fd);
      }
      seen.set(entry.name, { size: entry.size, sha256: hash.digest("hex") });
    }
    if (manifest?.format !== FORMAT) throw new Error("not a Postern backup: no manifest.json");
    for (const f of manifest.files) {
      const got = seen.get(f.name);
      if (!got) throw new Error(`${f.name} is missing from the archive`);
      if (got.sha256 !== f.sha256 || got.size !== f.size) throw new Error(`${f.name} is damaged (SHA-256 differs)`);
    }
    const check = await checkDatabase(dbPath);
    if (check !== "ok") throw new Error(`the restored database is damaged: ${check}`);
    console.error(`restored ${archive} (made ${manifest.createdAt} by Postern ${manifest.postern}) into ${dataDir}`);
    const sources = manifest.files.filter((f) => f.source);
    if (seen.has("config/postern.json") || sources.length) {
      console.error(`the config file, its secrets and the files it names are in ${join(dataDir, "restored-config")}:`);
      for (const f of sources) console.error(`  ${f.name.slice("config/".length)} was ${f.source}`);
    }
    return 0;
  } catch (e) {
    // Nothing half-written: the directory was empty, so everything in it now is ours.
    for (const path of written) rmSync(path, { force: true });
    if (created) rmSync(dataDir, { recursive: true, force: true });
    else for (const entry of readdirSync(dataDir)) rmSync(join(dataDir, entry), { recursive: true, force: true });
    console.error(`postern: cannot restore ${archive}: ${(e as Error).message}`);
    return 1;
  }
}
