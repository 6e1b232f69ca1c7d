/** Expected store failures, as values a caller can branch on; anything else is an I/O error. */
export type StoreErrorCode = "exists" | "not-found" | "invalid" | "in-use";

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** True for a SQLite UNIQUE / PRIMARY KEY constraint failure. */
export function isUniqueViolation(e: unknown): boolean {
  const text = String((e as { cause?: unknown })?.cause ?? "") + String((e as Error)?.message ?? "");
  return /UNIQUE constraint failed|PRIMARY KEY/i.test(text);
}

/** True when the database or the disk under it is full (SQLITE_FULL, ENOSPC), at any depth of `cause`. */
export function isStorageFull(e: unknown): boolean {
  for (let error = e, depth = 0; error && depth < 5; error = (error as { cause?: unknown }).cause, depth++) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (
      code === "SQLITE_FULL" || code === "ENOSPC" ||
      /SQLITE_FULL|database or disk is full|ENOSPC/i.test(String(message ?? ""))
    ) return true;
  }
  return false;
}

/**
 * The database was migrated by a newer build: its ledger holds migrations this build does not know.
 * Running on it could misread or damage rows written in a shape this code has never seen, so nothing starts.
 */
export class SchemaTooNewError extends Error {
  constructor(
    /** The newest migration recorded in the database (unknown to this build). */
    readonly databaseTag: string,
    /** The newest migration this build knows. */
    readonly knownTag: string | undefined,
    /** Every recorded migration this build does not know, oldest first. */
    readonly unknownTags: readonly string[],
  ) {
    super(
      `The database was migrated by a newer Postern: its newest migration is ${databaseTag}, ` +
        `but this build knows migrations only up to ${knownTag ?? "(none)"}. ` +
        "Run the newer Postern on it, or restore a backup made before it was upgraded.",
    );
    this.name = "SchemaTooNewError";
  }
}
