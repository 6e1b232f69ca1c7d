/**
 * The JMAP VacationResponse of an account (RFC 8621 §8): one object, id "singleton", stored
 * until the Sieve work makes it a managed script. No row means the default: disabled, all null.
 */
import { eq } from "drizzle-orm";
import type { Db } from "./db.ts";
import { vacationResponses } from "./schema.ts";
import type { Store } from "./store.ts";

export type VacationResponse = Omit<typeof vacationResponses.$inferSelect, "accountId">;

const DEFAULT: VacationResponse = {
  isEnabled: false,
  fromDate: null,
  toDate: null,
  subject: null,
  textBody: null,
  htmlBody: null,
};

export class VacationRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  async get(accountId: number): Promise<VacationResponse> {
    const [row] = await this.db.select().from(vacationResponses).where(eq(vacationResponses.accountId, accountId));
    if (!row) return { ...DEFAULT };
    const { accountId: _, ...response } = row;
    return response;
  }

  /** Whether a vacation reply is due at `at`: enabled, and within fromDate/toDate when given. */
  async activeAt(accountId: number, at: Date): Promise<VacationResponse | null> {
    const v = await this.get(accountId);
    if (!v.isEnabled || (v.fromDate && at < v.fromDate) || (v.toDate && at >= v.toDate)) return null;
    return v;
  }

  /** Changes some properties; returns the whole object after the commit. */
  set(accountId: number, patch: Partial<VacationResponse>): Promise<VacationResponse> {
    return this.store.write(async (tx, changes) => {
      const [row] = await tx.select().from(vacationResponses).where(eq(vacationResponses.accountId, accountId));
      const next = { ...DEFAULT, ...row, ...patch, accountId };
      await tx.insert(vacationResponses).values(next).onConflictDoUpdate({
        target: vacationResponses.accountId,
        set: { ...patch },
      });
      await changes.add({ accountId, mailboxId: null, type: "vacation", objectId: 1, op: "updated" });
      const { accountId: _, ...response } = next;
      return response;
    });
  }
}
