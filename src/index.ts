/**
 * Postern as a library. `createPostern` starts a gateway inside the calling program from a
 * config object — the same keys and the same valibot schema as `postern.json` — plus what only
 * code can give: policy hooks as functions and an `onMessage` callback. The store is reachable
 * directly (domains, accounts, aliases, mailboxes, messages), no HTTP in between.
 *
 * Each instance owns its store and listeners: several can run in one process on different
 * ports and databases.
 */
import { ConfigError, parseConfig } from "./config/load.ts";
import { type Config, type ConfigInput, LISTENER_NAMES, type ListenerName } from "./config/schema.ts";
import type { DeliveredMessage } from "./deliver/deliverer.ts";
import type { EmailAddress, MessageSummary } from "./mime/summary.ts";
import type { HookContext, HookFunction, HookModule } from "./policy/hooks.ts";
import type { Verdict } from "./policy/verdict.ts";
import { type Postern, type RuntimeOptions, startPostern } from "./postern.ts";
import type { AccountRepository } from "./store/accounts.ts";
import type { AliasRepository } from "./store/aliases.ts";
import type { DomainRepository } from "./store/domains.ts";
import { SchemaTooNewError, StoreError } from "./store/errors.ts";
import type { Mailbox } from "./store/mailboxes.ts";
import type { Store } from "./store/store.ts";
import { configureLog } from "./util/log.ts";

export { ConfigError, SchemaTooNewError, StoreError };
export { setLogFormat, setLogLevel } from "./util/log.ts";
export type {
  Config,
  ConfigInput,
  DeliveredMessage,
  EmailAddress,
  HookContext,
  HookFunction,
  HookModule,
  ListenerName,
  Mailbox,
  MessageSummary,
  Verdict,
};

export interface PosternOptions extends RuntimeOptions {
  /** The config, as in `postern.json`; omitted keys take their defaults. Errors throw `ConfigError` naming the key. */
  config?: ConfigInput;
  /** Where relative paths in the config (policy hook modules) are resolved; the working directory by default. */
  configDir?: string;
}

/** A stored message, as `messages()` lists it. */
export interface StoredMessage {
  /** The row id (JMAP's `M<id>`, REST's message id). */
  id: number;
  mailbox: string;
  uid: number;
  flags: string[];
  receivedAt: Date;
  size: number;
  messageId: string | null;
  subject: string | null;
  from: EmailAddress[];
  to: EmailAddress[];
  preview: string;
  /** The RFC 5322 bytes as stored. */
  raw(): Promise<Uint8Array>;
}

export interface EmbeddedPostern {
  readonly config: Config;
  /** Bound addresses by listener (a `port: 0` in the config is the real port here). */
  readonly addresses: Postern["addresses"];
  readonly domains: DomainRepository;
  readonly accounts: AccountRepository;
  readonly aliases: AliasRepository;
  /** The account's mailboxes (INBOX, Sent, Junk…). */
  mailboxes(address: string): Promise<Mailbox[]>;
  /** Messages of one mailbox of an account, oldest first. */
  messages(address: string, mailbox?: string): Promise<StoredMessage[]>;
  /** The store itself (drizzle over libSQL), for anything the helpers above do not cover. */
  readonly store: Store;
  /** Closes the listeners (waiting up to `graceMs` for sessions to finish) and the store. */
  stop(graceMs?: number): Promise<void>;
}

export async function createPostern(options: PosternOptions = {}): Promise<EmbeddedPostern> {
  // Issue 20: an embedding program opens the listeners it names, no others (not the default ports).
  const given = (options.config?.listeners ?? {}) as Partial<Record<ListenerName, unknown>>;
  const listeners = Object.fromEntries(LISTENER_NAMES.map((name) => [name, given[name] ?? false]));
  const configDir = options.configDir ?? process.cwd();
  const config = {
    ...parseConfig({ ...options.config, listeners }, "createPostern config", undefined, configDir),
    configDir,
  };
  // The logger is the process's: set from the config only when the program gave a `log` key.
  if (options.config?.log) configureLog(config.log);
  const postern = await startPostern(config, { hooks: options.hooks, onMessage: options.onMessage });
  const { store } = postern;

  async function account(address: string) {
    const found = await store.accounts.get(address);
    if (!found) throw new StoreError("not-found", `No account ${address}`);
    return found;
  }

  return {
    config,
    addresses: postern.addresses,
    store,
    domains: store.domains,
    accounts: store.accounts,
    aliases: store.aliases,
    async mailboxes(address) {
      return store.mailboxes.list((await account(address)).id);
    },
    async messages(address, mailbox = "INBOX") {
      const box = await store.mailboxes.byName((await account(address)).id, mailbox);
      if (!box) throw new StoreError("not-found", `No mailbox ${mailbox} for ${address}`);
      const rows = await store.messages.list(box.id);
      const summaries = await store.messages.withSummaries(box.id, rows.map((r) => r.uid));
      return rows.map((row) => {
        const { summary, blobHash } = summaries.get(row.uid)!;
        return {
          id: row.emailId,
          mailbox: box.name,
          uid: row.uid,
          flags: row.flags,
          receivedAt: row.internalDate,
          size: row.size,
          messageId: summary.messageId,
          subject: summary.subject,
          from: summary.from,
          to: summary.to,
          preview: summary.preview,
          raw: async () => (await store.emails.readBlob(blobHash)) ?? new Uint8Array(),
        };
      });
    },
    stop: (graceMs) => postern.stop(graceMs),
  };
}
