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
