/**
 * Email/parse (RFC 8621 §4.9): blobs holding a message — uploads, or an attached message/rfc822
 * part of a stored email — read as Emails without storing them, so a client can show an attached
 * .eml. Its parts get blob ids below the parsed blob's, which download like any other part.
 */
import { parseMessage } from "../../mime/structure.ts";
import { summarize } from "../../mime/summary.ts";
import type { Store } from "../../store/store.ts";
import { readBlob } from "./blob.ts";
import { DEFAULT_PARSE_PROPERTIES, emailGetOptions, emailObject } from "./email-object.ts";
import { accountJmapId, checkAccount, type JmapAccount } from "./mailbox.ts";
import { MethodError } from "./request.ts";

export async function emailParse(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  checkAccount(args, account);
  const blobIds = args.blobIds as string[];
  if (blobIds.length > 500) throw new MethodError("requestTooLarge", "At most 500 blobIds");
  const options = emailGetOptions(args, DEFAULT_PARSE_PROPERTIES);
  const parsed: Record<string, Record<string, unknown>> = {};
  const notParsable: string[] = [];
  const notFound: string[] = [];
  for (const blobId of new Set(blobIds)) {
    const raw = await readBlob(store, account, blobId);
    if (!raw) {
      notFound.push(blobId);
      continue;
    }
    // Something with no header field at all is no message (RFC 5322 §2.1).
    if (parseMessage(raw).fields.length === 0) {
      notParsable.push(blobId);
      continue;
    }
    parsed[blobId] = await emailObject({ blobId, summary: summarize(raw), raw: () => Promise.resolve(raw) }, options);
  }
  return {
    accountId: accountJmapId(account.id),
    parsed: Object.keys(parsed).length ? parsed : null,
    notParsable: notParsable.length ? notParsable : null,
    notFound: notFound.length ? notFound : null,
  };
}
