/**
 * Which protocol serves which listener, and the services they share. A listener whose protocol
 * is not written yet is not started at all (never answering as if it worked); `postern serve`
 * logs that it was left out.
 */
import { join } from "node:path";
import type { AuthThrottle } from "./auth/throttle.ts";
import type { Config, ListenerName } from "./config/schema.ts";
import type { Deliverer } from "./deliver/deliverer.ts";
import type { Directory } from "./deliver/directory.ts";
import { StoreImapBackend } from "./backends/imap.ts";
import { StoreManageSieveBackend } from "./backends/managesieve.ts";
import { StorePop3Backend } from "./backends/pop3.ts";
import { StoreSmtpBackend } from "./backends/smtp.ts";
import type { ConnectionHandler } from "./connection.ts";
import type { SecureContextSource } from "./net/certificate.ts";
import type { PolicyPipeline } from "./policy/pipeline.ts";
import { DEFAULT_LIMITS } from "./sieve/index.ts";
import { imapHandler } from "./imap/server.ts";
import { manageSieveHandler } from "./managesieve/server.ts";
import { pop3Handler } from "./pop3/server.ts";
import { smtpHandler } from "./smtp/server.ts";
import type { Store } from "./store/store.ts";
import { ByteBudget } from "./util/byte-budget.ts";
import { Spool } from "./util/spool.ts";

export interface ServerContext {
  config: Config;
  store: Store;
  secureContext: SecureContextSource;
  directory: Directory;
  deliverer: Deliverer;
  /** Shared by every protocol, so guessing over IMAP also slows SMTP AUTH. */
  authThrottle: AuthThrottle;
  /** The policy checks mail passes before it is accepted. */
  policy: PolicyPipeline;
}

export interface Protocol {
  /** TLS from the first byte (465, 993, 995) rather than STARTTLS. */
  implicitTls: boolean;
  /** Sent to a connection refused for the per-IP limit, e.g. `421 4.7.0 ...`. */
  refusalLine?: string;
  handler(context: ServerContext, listener: ListenerName): ConnectionHandler;
}

/** One memory budget for every SMTP listener of a server. */
const messageMemory = new WeakMap<Config, ByteBudget>();

function smtp(role: "mx" | "submission", implicitTls: boolean): Protocol {
  return {
    implicitTls,
    refusalLine: "421 4.7.0 Too many connections from your address, try again later",
    handler({ config, store, directory, deliverer, authThrottle, policy }) {
      const { limits } = config;
      let memory = messageMemory.get(config);
      if (!memory) messageMemory.set(config, memory = new ByteBudget(limits.messageMemory));
      const spoolDir = join(config.dataDir, "spool");
      return smtpHandler(
        {
          hostname: config.hostname,
          role,
          maxMessageSize: limits.messageSize,
          maxRecipients: limits.recipients,
          maxErrors: limits.errors,
          maxCommands: limits.commands,
          maxAuthFailures: limits.authFailures,
          allowPlaintextAuth: config.auth.allowPlaintext,
          maxLineLength: limits.lineLength,
          commandTimeoutMs: limits.commandTimeout * 1000,
          dataTimeoutMs: limits.dataTimeout * 1000,
          spool: () => new Spool({ dir: spoolDir }),
          memory,
          rejectNul: limits.rejectNul,
        },
        new StoreSmtpBackend({
          store,
          directory,
          deliverer,
          throttle: authThrottle,
          hostname: config.hostname,
          maxHops: config.limits.hops,
          policy,
        }),
      );
    },
  };
}

/** One maildrop lock table for both POP3 listeners. */
const pop3Backends = new WeakMap<Store, StorePop3Backend>();

function pop3(implicitTls: boolean): Protocol {
  return {
    implicitTls,
    refusalLine: "-ERR [SYS/TEMP] Too many connections from your address",
    handler({ config, store, authThrottle }) {
      let backend = pop3Backends.get(store);
      if (!backend) pop3Backends.set(store, backend = new StorePop3Backend(store, authThrottle));
      return pop3Handler(
        {
          hostname: config.hostname,
          allowPlaintextAuth: config.auth.allowPlaintext,
          maxAuthFailures: config.limits.authFailures,
          maxErrors: config.limits.errors,
          maxLineLength: config.limits.lineLength,
          // Before login the connection costs us and serves nobody: limits.commandTimeout.
          loginTimeoutMs: config.limits.commandTimeout * 1000,
          // RFC 1939 §3: once logged in, the autologout timer is at least 10 minutes.
          idleTimeoutMs: Math.max(config.limits.commandTimeout, 600) * 1000,
        },
        backend,
      );
    },
  };
}

function imap(implicitTls: boolean): Protocol {
  return {
    implicitTls,
    refusalLine: "* BYE Too many connections from your address",
    handler({ config, store, authThrottle }) {
      return imapHandler(
        {
          hostname: config.hostname,
          allowPlaintextAuth: config.auth.allowPlaintext,
          maxAuthFailures: config.limits.authFailures,
          maxLiteralSize: config.limits.messageSize,
          // RFC 7162 §4: command lines of at least 8192 octets; long UID sets need more.
          maxLineLength: Math.max(config.limits.lineLength, 65_536),
          // RFC 9051 §5.4: before authentication the timer "SHOULD be much shorter"…
          loginTimeoutMs: config.limits.commandTimeout * 1000,
          // …and after it at least 30 minutes.
          idleTimeoutMs: Math.max(config.limits.commandTimeout, 1800) * 1000,
        },
        new StoreImapBackend(store, authThrottle),
      );
    },
  };
}

/** ManageSieve (RFC 5804): STARTTLS only, as the RFC has no implicit-TLS port. */
const manageSieve: Protocol = {
  implicitTls: false,
  refusalLine: 'BYE (TRYLATER) "Too many connections from your address"',
  handler({ config, store, authThrottle }) {
    return manageSieveHandler(
      {
        hostname: config.hostname,
        allowPlaintextAuth: config.auth.allowPlaintext,
        maxAuthFailures: config.limits.authFailures,
        maxErrors: config.limits.errors,
        maxRedirects: DEFAULT_LIMITS.redirects,
        maxLineLength: config.limits.lineLength,
        loginTimeoutMs: config.limits.commandTimeout * 1000,
        // Scripts are edited by hand between commands: the IMAP timer's 30 minutes.
        idleTimeoutMs: Math.max(config.limits.commandTimeout, 1800) * 1000,
      },
      new StoreManageSieveBackend(store, authThrottle),
    );
  },
};

const PROTOCOLS: Partial<Record<ListenerName, Protocol>> = {
  smtp: smtp("mx", false),
  submission: smtp("submission", false),
  submissions: smtp("submission", true),
  imap: imap(false),
  imaps: imap(true),
  pop3: pop3(false),
  pop3s: pop3(true),
  managesieve: manageSieve,
};

export function protocolFor(name: ListenerName): Protocol | undefined {
  return PROTOCOLS[name];
}
