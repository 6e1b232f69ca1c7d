/**
 * Opening the database: an embedded libSQL file by default, or a libSQL server.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import * as schema from "./schema.ts";

export type Db = LibSQLDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface DatabaseOptions {
  url: string;
  authToken?: string;
}

/** Milliseconds a connection waits for another process's write lock (SQLite busy timeout). */
const BUSY_TIMEOUT_MS = 5000;

function filePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const rest = url.slice("file:".length).split("?")[0]!;
  if (rest === ":memory:") return null;
  return rest.startsWith("//") ? fileURLToPath(url.split("?")[0]!) : rest;
}

export async function openDatabase(options: DatabaseOptions): Promise<{ client: Client; db: Db }> {
  const path = filePath(options.url);
  if (path) mkdirSync(dirname(path), { recursive: true });
  const client = createClient({ url: options.url, authToken: options.authToken, timeout: BUSY_TIMEOUT_MS });
  if (options.url.startsWith("file:")) {
    // WAL lets readers (IMAP, POP3, the API) run while a delivery commits; FULL sync makes a
    // commit durable before we acknowledge it (a 250 means the message survives power loss).
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
  }
  await client.execute("PRAGMA foreign_keys = ON");
  return { client, db: drizzle(client, { schema }) };
}
