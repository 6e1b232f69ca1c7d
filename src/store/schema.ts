/**
 * The database schema (drizzle, SQLite dialect for libSQL). Migrations in ../../migrations are
 * generated from this file with `bun run db:generate`; never edit a migration that has shipped.
 */
import { sql } from "drizzle-orm";
import type { MessageSummary } from "../mime/summary.ts";
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

/** A domain we accept mail for: `mailbox` domains hold accounts, `forward` domains only aliases. */
export const domains = sqliteTable("domains", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** Lower-case ASCII (A-labels for internationalised names). */
  name: text("name").notNull().unique(),
  kind: text("kind", { enum: ["mailbox", "forward"] }).notNull().default("mailbox"),
  /** Accounts may manage their own aliases here with their API token (`/api/v1/me/aliases`). */
  ownerAliases: integer("owner_aliases", { mode: "boolean" }).notNull().default(false),
  /** Mail forwarded through its aliases gets a reverse address in Reply-To (reply through the alias). */
  reverseAliases: integer("reverse_aliases", { mode: "boolean" }).notNull().default(false),
  createdAt: createdAt(),
});

export const accounts = sqliteTable("accounts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  domainId: integer("domain_id").notNull().references(() => domains.id, { onDelete: "restrict" }),
  /** The full address, lower-cased: the login name. */
  address: text("address").notNull().unique(),
  /** `$scrypt$...` (see src/auth/password.ts); never a plain password. */
  passwordHash: text("password_hash").notNull(),
  displayName: text("display_name"),
  /** Bytes; null means no quota. */
  quota: integer("quota"),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  /** May sign in to the admin console (/admin) with its address and password (issue 22). */
  admin: integer("admin", { mode: "boolean" }).notNull().default(false),
  /**
   * The last UIDVALIDITY given to one of the account's mailboxes, deleted ones included, so a
   * mailbox created again under an old name never gets an old UIDVALIDITY (RFC 9051 §2.3.1.1).
   */
  uidValidityLast: integer("uid_validity_last").notNull().default(0),
  createdAt: createdAt(),
});

/** An alias address (`user@domain`, or `@domain` for a catch-all) with one or more targets. */
export const aliases = sqliteTable("aliases", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  domainId: integer("domain_id").notNull().references(() => domains.id, { onDelete: "restrict" }),
  address: text("address").notNull().unique(),
  /** A disabled alias is refused at RCPT (or accepted and dropped, per `aliases.onDisabled`). */
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  /** The account that made it through its API token and may change it; null for the admin's. */
  ownerId: integer("owner_id").references(() => accounts.id, { onDelete: "cascade" }),
  /** Messages forwarded through the alias, and recipients refused (or dropped) while it was disabled. */
  forwarded: integer("forwarded").notNull().default(0),
  refused: integer("refused").notNull().default(0),
  lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
});

export const aliasTargets = sqliteTable(
  "alias_targets",
  {
    aliasId: integer("alias_id").notNull().references(() => aliases.id, { onDelete: "cascade" }),
    /** A local or external address, or an https:// URL (a webhook). */
    target: text("target").notNull(),
    kind: text("kind", { enum: ["address", "webhook"] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.aliasId, t.target] })],
);

/**
 * A reverse address (`r+<token>@domain`, issue 19): mail from the alias's owner to it goes on to
 * the correspondent, from the alias. The token is an HMAC of alias and correspondent.
 */
export const reverseAliases = sqliteTable("reverse_aliases", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  token: text("token").notNull().unique(),
  domainId: integer("domain_id").notNull().references(() => domains.id, { onDelete: "cascade" }),
  /** The alias address the correspondent wrote to (a pattern's match, not the pattern). */
  alias: text("alias").notNull(),
  correspondent: text("correspondent").notNull(),
  lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
});

/** An IMAP mailbox / JMAP Mailbox. UIDVALIDITY and UIDNEXT follow RFC 9051 §2.3.1.1. */
export const mailboxes = sqliteTable(
  "mailboxes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** Hierarchy separator "/"; stored as UTF-8 (IMAP encodes it as modified UTF-7 on the wire). */
    name: text("name").notNull(),
    /** RFC 6154 special-use: \Sent, \Drafts, \Trash, \Junk, \Archive; "inbox" for INBOX. */
    role: text("role"),
    uidValidity: integer("uid_validity").notNull(),
    uidNext: integer("uid_next").notNull().default(1),
    /** The highest MODSEQ of anything in this mailbox (RFC 7162 HIGHESTMODSEQ). */
    highestModseq: integer("highest_modseq").notNull().default(0),
    /**
     * Mirrors whether `subscriptions` holds this name (kept by triggers, migration 0011); JMAP's
     * isSubscribed reads and writes it. IMAP SUBSCRIBE works on names in `subscriptions`.
     */
    subscribed: integer("subscribed", { mode: "boolean" }).notNull().default(true),
    /**
     * The highest UID an IMAP4rev1 session has already been shown as \Recent: the next session to
     * claim UIDs above it sees them as recent, and no other (RFC 3501 §2.3.2).
     */
    recentUid: integer("recent_uid").notNull().default(0),
    /** JMAP sortOrder (RFC 8621 §2); null: the default, 0 for INBOX and 10 for the others. */
    sortOrder: integer("sort_order"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("mailboxes_account_name").on(t.accountId, t.name)],
);

/**
 * IMAP subscriptions (RFC 9051 §6.3.7): names, not mailboxes — a name stays subscribed when its
 * mailbox is deleted, and may be subscribed before the mailbox exists.
 */
export const subscriptions = sqliteTable(
  "subscriptions",
  {
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.name] })],
);

/** Raw messages, stored once, addressed by the SHA-256 of their bytes. */
export const blobs = sqliteTable("blobs", {
  /** Lower-case hex SHA-256. */
  hash: text("hash").primaryKey(),
  size: integer("size").notNull(),
  data: blob("data", { mode: "buffer" }).notNull(),
  createdAt: createdAt(),
});

/**
 * A JMAP upload (RFC 8620 §6.1): keeps its blob alive until it expires, even while no message
 * refers to it yet (the spec asks for at least an hour).
 */
export const uploads = sqliteTable("uploads", {
  hash: text("hash").primaryKey(),
  accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * An email: one message of one account, with an identity of its own (JMAP Email id, IMAP
 * EMAILID/THREADID, REST id) that stays the same across moves and copies within the account.
 * The raw bytes live once in `blobs`; the parsed summary is computed once and versioned, so a
 * newer build can recompute summaries written by an older one (`postern reindex`).
 */
export const emails = sqliteTable(
  "emails",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    blobHash: text("blob_hash").notNull().references(() => blobs.hash, { onDelete: "restrict" }),
    size: integer("size").notNull(),
    /** When the message arrived (JMAP receivedAt; the IMAP internal date of its first membership). */
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
    /** Parsed once (src/mime/summary.ts): envelope, bodystructure, preview, the headers JMAP sorts on. */
    summary: text("summary", { mode: "json" }).$type<MessageSummary>().notNull(),
    /** The SUMMARY_VERSION that computed `summary`; older rows are recomputed by the reindexer. */
    summaryVersion: integer("summary_version").notNull().default(0),
    messageId: text("message_id"),
    threadId: text("thread_id").notNull(),
    subject: text("subject"),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("emails_account_received").on(t.accountId, t.receivedAt),
    index("emails_account_message_id").on(t.accountId, t.messageId),
    index("emails_account_thread").on(t.accountId, t.threadId),
    index("emails_blob").on(t.blobHash),
    index("emails_summary_version").on(t.summaryVersion),
  ],
);

/**
 * One membership of an email in a mailbox: the IMAP view (uid, modseq, flags, internal date).
 * Flags are per membership, as IMAP has them (RFC 9051 §2.3.2); the size and internal date are
 * copied from the email so that SELECT, STATUS and the list views read this table alone.
 */
export const messages = sqliteTable(
  "messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    mailboxId: integer("mailbox_id").notNull().references(() => mailboxes.id, { onDelete: "cascade" }),
    emailId: integer("email_id").notNull().references(() => emails.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
    size: integer("size").notNull(),
    /** System flags (`\Seen`...) and keywords, as a JSON array. */
    flags: text("flags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    internalDate: integer("internal_date", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("messages_mailbox_uid").on(t.mailboxId, t.uid),
    // No index on MODSEQ: nothing looks memberships up by it (what changed since a MODSEQ is read
    // from the change log), and STORE on 10,000 messages would move 10,000 entries of it.
    index("messages_mailbox_date").on(t.mailboxId, t.internalDate),
    index("messages_email").on(t.emailId),
  ],
);

/**
 * The change log. Its id is the MODSEQ of RFC 7162 and the source of JMAP state strings: every
 * change to a message or mailbox appends a row, and readers ask "what changed since N".
 */
export const changes = sqliteTable(
  "changes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    mailboxId: integer("mailbox_id"),
    /** The JMAP type: "email", "mailbox", "identity", "submission" (EmailSubmission), "vacation" or "sieve". */
    type: text("type", { enum: ["email", "mailbox", "identity", "submission", "vacation", "sieve"] }).notNull(),
    /** The email or mailbox id (JMAP's object). */
    objectId: integer("object_id").notNull(),
    /** For an email: its uid in `mailboxId`, so IMAP can report VANISHED without the row. */
    uid: integer("uid"),
    /** For an email: its JMAP thread, so Thread/changes can name the thread of a destroyed email. */
    threadId: text("thread_id"),
    /** What happened to the object (JMAP's view: a move is an update of the email). */
    op: text("op", { enum: ["created", "updated", "destroyed"] }).notNull(),
    /** For an email: what happened to its membership in `mailboxId` (IMAP's view: a move creates in one, destroys in the other). */
    mailboxOp: text("mailbox_op", { enum: ["created", "updated", "destroyed"] }),
    createdAt: createdAt(),
  },
  (t) => [index("changes_account").on(t.accountId, t.id), index("changes_mailbox").on(t.mailboxId, t.id)],
);

/** The outbound queue: one row per accepted message for remote recipients, with the envelope. */
export const queue = sqliteTable("queue", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  blobHash: text("blob_hash").notNull().references(() => blobs.hash, { onDelete: "restrict" }),
  /** Envelope sender; "" is the null sender `<>`. */
  sender: text("sender").notNull(),
  /** DSN parameters (RFC 3461) from MAIL FROM. */
  envid: text("envid"),
  ret: text("ret", { enum: ["FULL", "HDRS"] }),
  /** The account that submitted it, if any. */
  accountId: integer("account_id").references(() => accounts.id, { onDelete: "set null" }),
  createdAt: createdAt(),
});

export const queueRecipients = sqliteTable(
  "queue_recipients",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    queueId: integer("queue_id").notNull().references(() => queue.id, { onDelete: "cascade" }),
    recipient: text("recipient").notNull(),
    /** RFC 3461 NOTIFY, comma-separated, and ORCPT. */
    notify: text("notify"),
    orcpt: text("orcpt"),
    /** `held`: kept out of delivery by an operator (`postern queue hold`) until released. */
    status: text("status", { enum: ["pending", "held", "delivered", "failed"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull().default(
      sql`(unixepoch('subsec') * 1000)`,
    ),
    lastReply: text("last_reply"),
    /** A "delayed" DSN went out for this recipient (RFC 3464 §2.3.3); at most one is sent. */
    delayNotified: integer("delay_notified", { mode: "boolean" }).notNull().default(false),
    /**
     * The process delivering this recipient now, and until when its claim holds: a claim is taken in one
     * statement, so two processes on one database never deliver the same recipient at once, and an
     * expired claim (its process died) is taken over.
     */
    leaseOwner: text("lease_owner"),
    leaseUntil: integer("lease_until", { mode: "timestamp_ms" }),
  },
  (t) => [index("queue_recipients_due").on(t.status, t.nextAttemptAt)],
);

/**
 * Greylisting triplets: (client network, sender, recipient), first seen and, once the client
 * came back after the delay, when it passed.
 */
export const greylist = sqliteTable(
  "greylist",
  {
    /** "192.0.2.0/24|sender@example.com|rcpt@example.net", lower-cased. */
    triplet: text("triplet").primaryKey(),
    firstSeen: integer("first_seen", { mode: "timestamp_ms" }).notNull(),
    passedAt: integer("passed_at", { mode: "timestamp_ms" }),
    lastSeen: integer("last_seen", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("greylist_last_seen").on(t.lastSeen)],
);

/** Rate-limit counters: one row per key and fixed window, so a restart does not reset them. */
export const rateCounters = sqliteTable(
  "rate_counters",
  {
    /** e.g. "messagesPerIp|192.0.2.1" */
    key: text("key").notNull(),
    /** Start of the hour window, epoch ms. */
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);

/**
 * POP3 maildrop locks (RFC 1939 §8: one session per maildrop), shared by every process on the
 * database. A lock names its process and session; a process refreshes its locks while it lives, so
 * the locks of a process that died expire.
 */
export const maildropLocks = sqliteTable("maildrop_locks", {
  accountId: integer("account_id").primaryKey().references(() => accounts.id, { onDelete: "cascade" }),
  owner: text("owner").notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});

/** API tokens of an account (JMAP and REST as that account): only a SHA-256 of each is kept. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Hex SHA-256 of the token. */
    hash: text("hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_tokens_hash").on(t.hash)],
);

/** A JMAP Identity (RFC 8621 §6): an address the account sends from, with its name and signatures. */
export const identities = sqliteTable(
  "identities",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull().default(""),
    /** The account's address or one of its aliases. */
    email: text("email").notNull(),
    /** EmailAddress lists (JSON) or null. */
    replyTo: text("reply_to", { mode: "json" }).$type<Array<{ name: string | null; email: string }>>(),
    bcc: text("bcc", { mode: "json" }).$type<Array<{ name: string | null; email: string }>>(),
    textSignature: text("text_signature").notNull().default(""),
    htmlSignature: text("html_signature").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [index("identities_account").on(t.accountId)],
);

/**
 * A JMAP EmailSubmission (RFC 8621 §7): what was sent, to whom, and how delivery went — kept
 * per recipient in `deliveryStatus`, which the queue updates as it records its attempts.
 */
export const emailSubmissions = sqliteTable(
  "email_submissions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    identityId: integer("identity_id").notNull(),
    emailId: integer("email_id").notNull(),
    threadId: text("thread_id").notNull(),
    /** The SMTP envelope (RFC 8621 §7 Envelope), JSON. */
    envelope: text("envelope", { mode: "json" }).$type<{
      mailFrom: { email: string; parameters: null };
      rcptTo: Array<{ email: string; parameters: null }>;
    }>().notNull(),
    sendAt: integer("send_at", { mode: "timestamp_ms" }).notNull(),
    undoStatus: text("undo_status", { enum: ["pending", "final", "canceled"] }).notNull().default("final"),
    /** Recipient → { smtpReply, delivered, displayed } (RFC 8621 §7 DeliveryStatus), JSON. */
    deliveryStatus: text("delivery_status", { mode: "json" }).$type<
      Record<string, { smtpReply: string; delivered: "queued" | "yes" | "no" | "unknown"; displayed: "unknown" }>
    >().notNull(),
    /** The outbound queue entry of its remote recipients, while there is one. */
    queueId: integer("queue_id"),
  },
  (t) => [index("email_submissions_account").on(t.accountId), index("email_submissions_queue").on(t.queueId)],
);

/** A JMAP VacationResponse (RFC 8621 §8): one per account, kept until Sieve takes it over. */
export const vacationResponses = sqliteTable("vacation_responses", {
  accountId: integer("account_id").primaryKey().references(() => accounts.id, { onDelete: "cascade" }),
  isEnabled: integer("is_enabled", { mode: "boolean" }).notNull().default(false),
  fromDate: integer("from_date", { mode: "timestamp_ms" }),
  toDate: integer("to_date", { mode: "timestamp_ms" }),
  subject: text("subject"),
  textBody: text("text_body"),
  htmlBody: text("html_body"),
});

/**
 * The Sieve scripts of an account (RFC 5228, issue 21), by name; at most one is active (RFC 5804 §1.1), the one run at
 * delivery.
 */
export const sieveScripts = sqliteTable(
  "sieve_scripts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    content: text("content").notNull(),
    active: integer("active", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
  },
  (t) => [
    uniqueIndex("sieve_scripts_account_name").on(t.accountId, t.name),
    uniqueIndex("sieve_scripts_account_active").on(t.accountId).where(sql`active = 1`),
  ],
);

/**
 * Webmail and admin console sign-ins (issue 22): the cookie is a random token of which only the SHA-256 is kept, like API tokens; the
 * CSRF token the page must echo in a header; the last use, for the idle timeout. Signing out deletes the row.
 */
export const webSessions = sqliteTable(
  "web_sessions",
  {
    /** Hex SHA-256 of the cookie's token. */
    id: text("id").primaryKey(),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    csrf: text("csrf").notNull(),
    /** A sign-in to the admin console (its own cookie), not to the webmail; good while the account is admin. */
    admin: integer("admin", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("web_sessions_account").on(t.accountId)],
);

/**
 * A JMAP PushSubscription (RFC 8620 §7.2), made with an account's credentials. The server's
 * verification code is sent to `url`; pushes go there once the client has set it back (`verified`).
 */
export const pushSubscriptions = sqliteTable(
  "push_subscriptions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    deviceClientId: text("device_client_id").notNull(),
    url: text("url").notNull(),
    /** RFC 8620 §7.2 keys (p256dh, auth: base64url), JSON; null without encryption. */
    keys: text("keys", { mode: "json" }).$type<{ p256dh: string; auth: string } | null>(),
    /** The code sent in the PushVerification. */
    verificationCode: text("verification_code").notNull(),
    verified: integer("verified", { mode: "boolean" }).notNull().default(false),
    expires: integer("expires", { mode: "timestamp_ms" }),
    /** The type names to push, JSON; null for all. */
    types: text("types", { mode: "json" }).$type<string[] | null>(),
    createdAt: createdAt(),
  },
  (t) => [index("push_subscriptions_account").on(t.accountId)],
);

/**
 * Which process pushes JMAP state changes when several share the database (one row): its holder
 * (a store's instanceId) until `expires_at`, renewed by the holder, taken over once expired.
 */
export const pushLease = sqliteTable("push_lease", {
  id: integer("id").primaryKey(),
  holder: text("holder").notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Vacation replies sent (RFC 5230 §4.2, RFC 6131): one per account, handle and sender within the period the script
 * asked for.
 */
export const sieveVacationReplies = sqliteTable(
  "sieve_vacation_replies",
  {
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    handle: text("handle").notNull(),
    /** The address replied to, lower-cased. */
    sender: text("sender").notNull(),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.handle, t.sender] })],
);

/**
 * RFC 7352 duplicate tracking (issue 21): the ids a script's `duplicate` test has seen, per account and :handle, kept
 * until they expire; recorded only when the run succeeded and the delivery committed.
 */
export const sieveDuplicates = sqliteTable(
  "sieve_duplicates",
  {
    accountId: integer("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    handle: text("handle").notNull(),
    /** SHA-256 (hex) of the tracked value. */
    hash: text("hash").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.handle, t.hash] })],
);
