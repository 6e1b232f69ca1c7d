/**
 * The configuration schema: the one place that names every config key, its type and its default.
 * Keys are the outside contract of ../../../shared/DESIGN.md; the README lists them all.
 */
import * as v from "valibot";
import { normalizeDomain, parseAddress } from "../mime/address.ts";
import { checkDomainName, checkSelector, type NameCheck } from "../util/domain-name.ts";
import { addressList } from "../util/ip-list.ts";
import { policySchema } from "./policy-schema.ts";

const port = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535));
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonEmpty = v.pipe(v.string(), v.nonEmpty("must not be empty"));
/** IP addresses and CIDR networks (`192.0.2.1`, `10.0.0.0/8`, `2001:db8::/32`). */
const addresses = v.pipe(
  v.array(v.string()),
  v.check((list) => {
    try {
      addressList(list);
      return true;
    } catch {
      return false;
    }
  }, (issue) => `not a list of IP addresses and networks: ${JSON.stringify(issue.input)}`),
);
/** `host:port`, e.g. `smtp.example.net:587` or `[::1]:2525`. */
export const hostPort = v.pipe(
  v.string(),
  v.regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/, "must be host:port"),
);

/** A transport map key: a domain name (compared in lower case, without a final dot) or `"*"`. */
const transportKey = v.pipe(
  v.string(),
  v.check((key) => key === "*" || normalizeDomain(key) !== null, 'must be a domain name or "*"'),
  v.transform((key) => (key === "*" ? key : normalizeDomain(key)!)),
);

/** A listener is `{ host, port }`, or `false` to turn it off. Development defaults: loopback, ports above 1024. */
/** A listener's `{ host, port }`, or `false`; on by default unless `off`. */
function listener(defaultPort: number, off = false) {
  const settings = v.union([
    v.literal(false),
    v.strictObject({
      host: v.optional(nonEmpty, "127.0.0.1"),
      port: v.optional(port, defaultPort),
    }),
  ], "must be false or an object with host and port");
  return off ? v.optional(settings, false) : v.optional(settings, {});
}

export const DEFAULT_PORTS = {
  smtp: 2525,
  submission: 2587,
  submissions: 2465,
  imap: 2143,
  imaps: 2993,
  pop3: 2110,
  pop3s: 2995,
  /** ManageSieve (RFC 5804): its IANA port, already above 1024. */
  managesieve: 4190,
  http: 8080,
  /** Off unless configured (`postern setup` puts it on 443): MTA-STS, autoconfig and autodiscover over HTTPS. */
  https: 8443,
} as const;

export type ListenerName = keyof typeof DEFAULT_PORTS;
export const LISTENER_NAMES = Object.keys(DEFAULT_PORTS) as ListenerName[];

/** A name the one domain-name check accepts (issue 18); the issue says why not. */
function checkedName(check: (text: string) => NameCheck) {
  return v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const checked = check(dataset.value);
      if (!checked.ok) addIssue({ message: `not a valid name: ${checked.reason}` });
    }),
  );
}

/** `local@domain`, the domain a valid name. */
const mailAddress = v.pipe(
  v.string(),
  v.check((text) => parseAddress(text) !== null, "must be an address local@domain"),
);

const dkimKey = v.strictObject({
  /** One LDH label: `<selector>._domainkey.<domain>` is a DNS name. */
  selector: checkedName(checkSelector),
  /** Path to a PEM private key file. */
  privateKey: nonEmpty,
});

export const configSchema = v.strictObject({
  /** The name this server gives in greetings, Received headers and its certificate. */
  hostname: v.optional(nonEmpty, "localhost"),
  /**
   * Where `RCPT TO:<postmaster>` (RFC 5321 §4.5.1) and postmaster@ of every served domain without
   * its own account or alias go; default postmaster@<primary domain> (the host name's domain or
   * nearest served parent, else the first domain added).
   */
  postmaster: v.optional(mailAddress),
  /** Where abuse@ of every served domain without its own account or alias goes (RFC 2142 §4); default: as postmaster. */
  abuse: v.optional(mailAddress),
  /** Where the database file, the self-signed certificate and other state live. */
  dataDir: v.optional(nonEmpty, "./data"),
  database: v.optional(
    v.strictObject({
      /** `file:<path>` (embedded, the default `file:<dataDir>/postern.db`), or `libsql://`, `http://`, `https://`, `ws://`, `wss://` for a libSQL server. */
      url: v.optional(
        v.pipe(
          v.string(),
          v.regex(/^(file|libsql|https?|wss?):/, "must start with file:, libsql:, http(s): or ws(s):"),
        ),
      ),
      authToken: v.optional(v.string()),
    }),
    {},
  ),
  tls: v.optional(
    v.strictObject({
      /** PEM certificate chain file; without cert and key a self-signed certificate is made in `<dataDir>/tls`. */
      cert: v.optional(nonEmpty),
      key: v.optional(nonEmpty),
      /** OpenSSL cipher list for TLS 1.2; default: ECDHE with AES-GCM or ChaCha20-Poly1305 only. */
      ciphers: v.optional(nonEmpty),
      /**
       * Certificates from an ACME CA (RFC 8555; Let's Encrypt by default) instead of `cert`/`key`: challenges are
       * answered on the HTTP listener (HTTP-01) or the HTTPS listener (TLS-ALPN-01; see `challenge`), the certificate and keys
       * kept in `<dataDir>/tls/acme/`, renewed `renewBefore` seconds before expiry, taken by new
       * connections without a restart. Setting it agrees to the CA's terms of service.
       */
      acme: v.optional(
        v.union([
          v.literal(false),
          v.strictObject({
            directory: v.optional(
              v.pipe(v.string(), v.url("must be a URL")),
              "https://acme-v02.api.letsencrypt.org/directory",
            ),
            /** The account's contact address (expiry notices). */
            email: v.optional(mailAddress),
            /** Names on the certificate; default `[hostname]`. */
            names: v.optional(v.pipe(v.array(checkedName(checkDomainName)), v.minLength(1, "must name at least one"))),
            /** Seconds before expiry to renew; default 30 days. */
            renewBefore: v.optional(positiveInt, 30 * 86_400),
            /** PEM file of CAs to trust for the directory's HTTPS (a private or test CA such as Pebble). */
            caFile: v.optional(nonEmpty),
            /**
             * How the CA checks that this server answers for each name: `http-01` (RFC 8555 §8.3) on the HTTP listener
             * (port 80 from the outside), or `tls-alpn-01` (RFC 8737) on the HTTPS listener (port 443), for a server
             * that does not open port 80 (Bun and the binary only: Deno's TLS cannot present the challenge certificate).
             */
            challenge: v.optional(v.picklist(["http-01", "tls-alpn-01"]), "http-01"),
          }),
        ], "must be false or an object"),
        false,
      ),
    }),
    {},
  ),
  listeners: v.optional(
    v.strictObject({
      smtp: listener(DEFAULT_PORTS.smtp),
      submission: listener(DEFAULT_PORTS.submission),
      submissions: listener(DEFAULT_PORTS.submissions),
      imap: listener(DEFAULT_PORTS.imap),
      imaps: listener(DEFAULT_PORTS.imaps),
      pop3: listener(DEFAULT_PORTS.pop3),
      pop3s: listener(DEFAULT_PORTS.pop3s),
      managesieve: listener(DEFAULT_PORTS.managesieve),
      http: listener(DEFAULT_PORTS.http),
      /**
       * HTTPS (off unless set; `postern setup` puts it on port 443): the HTTP listener's routes over TLS with the mail
       * listeners' certificate (files, ACME or self-signed; a new one is taken without a restart). MTA-STS policies
       * (RFC 8461 §3.3), Thunderbird autoconfig and Outlook autodiscover are fetched over HTTPS on 443, and an ACME CA
       * validates `tls.acme.challenge: "tls-alpn-01"` here.
       */
      https: listener(DEFAULT_PORTS.https, true),
    }),
    {},
  ),
  limits: v.optional(
    v.strictObject({
      /** Open connections allowed from one IP address, across all listeners. */
      connectionsPerIp: v.optional(positiveInt, 20),
      /** Largest message accepted, in bytes (advertised as SMTP SIZE). */
      messageSize: v.optional(positiveInt, 25 * 1024 * 1024),
      /** Recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100). */
      recipients: v.optional(positiveInt, 100),
      /** Longest command line, in bytes (RFC 5321 §4.5.3.1.4: 512 at least). */
      lineLength: v.optional(positiveInt, 4096),
      /** Protocol errors before the session is closed. */
      errors: v.optional(positiveInt, 20),
      /** Received: headers a message may carry before it is refused as a loop (Postfix: 50). */
      hops: v.optional(positiveInt, 50),
      /** Commands in one SMTP session. */
      commands: v.optional(positiveInt, 10_000),
      /** Seconds to wait for the next command (RFC 5321 §4.5.3.2.7: 5 minutes). */
      commandTimeout: v.optional(positiveInt, 300),
      /** Seconds to wait for the next block of message data (RFC 5321 §4.5.3.2.6: 10 minutes for the end). */
      dataTimeout: v.optional(positiveInt, 600),
      /** Failed authentications before a session is closed. */
      authFailures: v.optional(positiveInt, 3),
      /**
       * Bytes of received messages being checked and stored at once, across all SMTP sessions; the rest wait
       * (a message larger than this proceeds alone). Data still arriving is spooled to `<dataDir>/spool`.
       */
      messageMemory: v.optional(positiveInt, 64 * 1024 * 1024),
      /** Refuse message data containing NUL with `550 5.6.0` (Postfix: `message_reject_characters = \0`). */
      rejectNul: v.optional(v.boolean(), true),
    }),
    {},
  ),
  auth: v.optional(
    v.strictObject({
      /** Allow passwords over connections without TLS (development only). */
      allowPlaintext: v.optional(v.boolean(), false),
      /**
       * Refuse an address outright after `failures` failed logins within 15 minutes, for `duration` seconds
       * (SMTP 421 4.7.0, IMAP BYE, POP3 -ERR [AUTH], HTTP 429), except addresses and networks in `allow`.
       */
      ban: v.optional(
        v.strictObject({
          failures: v.optional(positiveInt, 10),
          duration: v.optional(positiveInt, 3600),
          allow: v.optional(addresses, []),
        }),
        {},
      ),
    }),
    {},
  ),
  api: v.optional(
    v.strictObject({
      /** Bearer token for the REST admin API under /api/v1; without it the admin API answers 401. */
      adminToken: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
      /**
       * Proxies (addresses or networks) whose `X-Forwarded-For`/`Forwarded` header names the client; from anyone
       * else the socket's peer address is the client, whatever the headers say.
       */
      trustedProxies: v.optional(addresses, []),
    }),
    {},
  ),
  /** Prometheus metrics at `/metrics` on the HTTP listener(s). */
  metrics: v.optional(
    v.strictObject({
      /**
       * Ask for `Authorization: Bearer <api.adminToken>` (401 without it). Default: asked whenever
       * `api.adminToken` is set (what `postern setup` writes), so a server reachable from the internet does not show
       * its traffic, queue and logins to anyone; open without a token, as on a development server on loopback.
       * `true` needs `api.adminToken`.
       */
      requireToken: v.optional(v.boolean()),
    }),
    {},
  ),
  dns: v.optional(
    v.strictObject({
      /** Resolvers as `ip` or `ip:port`; empty means the system's. */
      servers: v.optional(v.array(nonEmpty), []),
      /**
       * Seconds to wait for one answer; also the most that the SPF, DKIM and DMARC lookups of one
       * inbound message may take together, after which they are temperror.
       */
      timeout: v.optional(v.pipe(v.number(), v.minValue(0.1), v.maxValue(60)), 2),
      /** Times each resolver is asked before a lookup fails. */
      attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5)), 2),
    }),
    {},
  ),
  delivery: v.optional(
    v.strictObject({
      /** Smart host for all outbound mail, `host:port`. */
      relayHost: v.optional(hostPort),
      /**
       * Domain → `host:port`, like Postfix's transport map; `"*"` sends every other domain to one
       * host (checked after the domain's own entry, before `relayHost`).
       */
      transport: v.optional(v.record(transportKey, hostPort), {}),
      /** Credentials for the smart host (AUTH PLAIN, only over TLS). */
      relayAuth: v.optional(v.strictObject({ username: nonEmpty, password: nonEmpty })),
      /** Refuse to deliver without STARTTLS (otherwise TLS is opportunistic). */
      requireTls: v.optional(v.boolean(), false),
      /** Seconds before the first retry; each later one waits twice as long, at most 4 hours. */
      retryDelay: v.optional(v.pipe(v.number(), v.minValue(1)), 300),
      /** Plus-addressing: `user+tag@` reaches `user@`; "" turns it off (Postfix's recipient_delimiter). */
      recipientDelimiter: v.optional(v.pipe(v.string(), v.maxLength(1, "must be one character or empty")), "+"),
      /** Port of MX hosts; 25 everywhere but in tests. */
      mxPort: v.optional(port, 25),
      /** Seconds a message may wait in the queue before it is bounced (Postfix: 5 days). */
      maxAge: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60)), 432_000),
      /**
       * Seconds a recipient may stay deferred before its sender gets one "delayed" DSN (RFC 3464;
       * sendmail's 4 hours, Postfix's delay_warning_time); 0 sends none.
       */
      delayWarning: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 14_400),
    }),
    {},
  ),
  srs: v.optional(
    v.strictObject({
      secret: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
    }),
    {},
  ),
  /** DKIM signing keys per domain. */
  dkim: v.optional(v.record(checkedName(checkDomainName), dkimKey), {}),
  aliases: v.optional(
    v.strictObject({
      /** A disabled alias refuses mail at RCPT (`550 5.1.1`), or accepts and drops it ("drop"). */
      onDisabled: v.optional(v.picklist(["refuse", "drop"]), "refuse"),
    }),
    {},
  ),
  /** The MTA-STS policy (RFC 8461) served at /.well-known/mta-sts.txt for every domain, MX = `hostname`. */
  mtaSts: v.optional(
    v.strictObject({
      /** "testing" asks senders only to report failures (RFC 8460); "enforce" to refuse delivery without valid TLS. */
      mode: v.optional(v.picklist(["enforce", "testing", "none"]), "testing"),
      /** Seconds senders keep the policy (RFC 8461 §3.2: at most a year); default one week. */
      maxAge: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(31_557_600)), 604_800),
    }),
    {},
  ),
  /** Sieve at delivery (issue 21). */
  sieve: v.optional(
    v.strictObject({
      /** Directory of the site's scripts for RFC 6609 `include :global "name"` (files `name.sieve`). */
      globalDir: v.optional(nonEmpty),
    }),
    {},
  ),
  /** HTTP(S) targets of aliases. */
  webhooks: v.optional(
    v.strictObject({
      /** Key of the HMAC-SHA256 `Postern-Signature` header on every webhook request. */
      secret: v.optional(v.pipe(v.string(), v.minLength(16, "must be at least 16 characters"))),
      /** Extra CA certificates (PEM file) to trust for webhook endpoints, e.g. an internal CA. */
      caFile: v.optional(nonEmpty),
      /** Seconds to wait for an endpoint's answer. */
      timeout: v.optional(v.pipe(v.number(), v.minValue(1)), 30),
      /** Plain http:// to any host; without it, only to loopback hosts (a sidecar, local development). */
      allowHttp: v.optional(v.boolean(), false),
    }),
    {},
  ),
  /** HTTP requests to targets that users choose: JMAP push subscriptions and webhook targets of aliases. */
  outbound: v.optional(
    v.strictObject({
      /**
       * Loopback, private, link-local, CGNAT, multicast and unspecified addresses these may be sent to: `true` for any,
       * or a list of addresses and networks (e.g. `["127.0.0.1", "::1"]` for a sidecar); default none.
       */
      allowPrivateTargets: v.optional(v.union([v.boolean(), addresses]), false),
    }),
    {},
  ),
  policy: policySchema,
  /** The server's log on stderr (src/util/log.ts); `POSTERN_LOG_LEVEL` sets the level too. */
  log: v.optional(
    v.strictObject({
      /** Lines below this are dropped. */
      level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
      /** `logfmt` (key=value, one line per event) or `json` (one object per line). */
      format: v.optional(v.picklist(["logfmt", "json"]), "logfmt"),
    }),
    {},
  ),
});

export type ConfigInput = v.InferInput<typeof configSchema>;
type Parsed = v.InferOutput<typeof configSchema>;
export type Config = Parsed & {
  database: Parsed["database"] & { url: string };
  /** Where relative paths in the config are resolved (the config file's folder). */
  configDir?: string;
};
