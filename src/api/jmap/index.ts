/**
 * JMAP over Hono (RFC 8620, RFC 8621): the session resource, the API endpoint, blob download
 * and the EventSource push channel. Authentication is an API token (`Bearer`) or the account's
 * own credentials (`Basic`, throttled like every other password check).
 */
import type { BlockList } from "node:net";
import type { Context, Hono } from "hono";
import type { Banned } from "../../auth/login.ts";
import { clientAddress, readBody } from "../client.ts";
import { streamSSE } from "hono/streaming";
import type { AuthThrottle } from "../../auth/throttle.ts";
import { checkPassword } from "../../backends/password.ts";
import { webSessionAccount } from "../web/session.ts";
import type { Store } from "../../store/store.ts";
import { blobIdOf, downloadHeaders, readBlob } from "./blob.ts";
import { emailMethods } from "./email.ts";
import { MAX_MAILBOXES_PER_EMAIL } from "./email-create.ts";
import { accountJmapId, accountState, type JmapAccount, mailboxMethods } from "./mailbox.ts";
import { CAPABILITIES, checkRequest, type Method, runCalls } from "./request.ts";
import { SUBMISSION, submissionMethods } from "./submission.ts";
import { BLOB, BLOB_CAPABILITY, blobMethods } from "./blob-methods.ts";
import { QUOTA, quotaMethods } from "./quota.ts";
import { VACATION, vacationMethods } from "./vacation.ts";
import type { Deliverer } from "../../deliver/deliverer.ts";
import { ALIASES, aliasMethods } from "./aliases.ts";
import { SIEVE, SIEVE_ACCOUNT_CAPABILITY, sieveMethods } from "./sieve.ts";
import type { OutboundPolicy } from "../../net/outbound-url.ts";
import { PushNotifier, pushTypes, stateChange } from "./push.ts";
import { pushSubscriptionMethods } from "./push-subscription.ts";

export interface JmapOptions {
  store: Store;
  /** For EmailSubmission: sends through the same path as SMTP submission. */
  deliverer?: Deliverer;
  throttle?: AuthThrottle;
  maxRequestBytes?: number;
  /** api.trustedProxies: whose X-Forwarded-For names the client for the login throttle. */
  trustedProxies?: BlockList | null;
  /** Where uploads wait while they arrive (`<dataDir>/spool`); in memory without it. */
  spoolDir?: string;
  /** outbound.allowPrivateTargets and the resolver, for push subscription URLs. */
  outbound?: OutboundPolicy;
}

/** RFC 8620 §2: maxSizeUpload. */
const MAX_UPLOAD = 50_000_000;

const jmapError = (c: Context, status: 400 | 401 | 413 | 429, type: string, detail: string) =>
  c.body(JSON.stringify({ type, status, detail }), status, {
    "content-type": "application/problem+json",
    ...(status === 401 ? { "www-authenticate": 'Basic realm="postern", Bearer' } : {}),
  });

/** EventSource ping bounds, in seconds. */
const MIN_PING = 1;
const MAX_PING = 600;

export function mountJmap(app: Hono, options: JmapOptions): void {
  const { store } = options;
  const maxRequest = options.maxRequestBytes ?? 10_000_000;
  const push = new PushNotifier(store, pushTypes(options.deliverer !== undefined), options.outbound);
  push.start().catch((e) => console.error("JMAP push subscriptions could not be read:", e));

  const authenticate = async (c: Context): Promise<JmapAccount | null | Banned> => {
    const header = c.req.header("authorization") ?? "";
    const bearer = /^Bearer (.+)$/i.exec(header)?.[1];
    if (bearer) return store.tokens.verify(bearer.trim());
    const basic = /^Basic (.+)$/i.exec(header)?.[1];
    // The webmail's session cookie, with its CSRF token on every change (src/api/web/session.ts).
    if (!basic) return header ? null : webSessionAccount(c, store);
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    const [user, pass] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    return options.throttle
      ? checkPassword(store, options.throttle, user, pass, clientAddress(c, options.trustedProxies ?? null))
      : ((await store.accounts.verify(user, pass)) ?? null);
  };

  app.get("/.well-known/jmap", (c) => c.redirect("/jmap/session", 301));

  app.use("/jmap/*", async (c, next) => {
    const account = await authenticate(c);
    if (account === "banned") {
      return jmapError(c, 429, "about:blank", "Too many failed logins from your address; try again later");
    }
    if (!account) {
      return jmapError(
        c,
        401,
        "about:blank",
        "Authenticate with an API token (Bearer) or the account's password (Basic)",
      );
    }
    c.set("jmapAccount" as never, account as never);
    await next();
  });
  const accountOf = (c: Context) => c.get("jmapAccount" as never) as unknown as JmapAccount;

  app.get("/jmap/session", async (c) => {
    const account = accountOf(c);
    const origin = new URL(c.req.url).origin;
    const id = accountJmapId(account.id);
    return c.json({
      capabilities: {
        "urn:ietf:params:jmap:core": {
          maxSizeUpload: MAX_UPLOAD,
          maxConcurrentUpload: 4,
          maxSizeRequest: maxRequest,
          maxConcurrentRequests: 4,
          maxCallsInRequest: 64,
          maxObjectsInGet: 500,
          maxObjectsInSet: 500,
          collationAlgorithms: ["i;ascii-casemap"],
        },
        "urn:ietf:params:jmap:mail": {},
        ...(options.deliverer ? { [SUBMISSION]: {} } : {}),
        [VACATION]: {},
        [QUOTA]: {},
        [BLOB]: {},
        [ALIASES]: {},
        [SIEVE]: {},
      },
      accounts: {
        [id]: {
          name: account.address,
          isPersonal: true,
          isReadOnly: false,
          accountCapabilities: {
            "urn:ietf:params:jmap:core": {},
            "urn:ietf:params:jmap:mail": {
              maxMailboxesPerEmail: MAX_MAILBOXES_PER_EMAIL,
              maxMailboxDepth: null,
              maxSizeMailboxName: 255,
              maxSizeAttachmentsPerEmail: 50_000_000,
              emailQuerySortOptions: [
                "receivedAt",
                "sentAt",
                "size",
                "subject",
                "from",
                "to",
                "hasKeyword",
                "allInThreadHaveKeyword",
                "someInThreadHaveKeyword",
              ],
              mayCreateTopLevelMailbox: true,
            },
            ...(options.deliverer ? { [SUBMISSION]: { maxDelayedSend: 0, submissionExtensions: {} } } : {}),
            [VACATION]: {},
            [QUOTA]: {},
            [BLOB]: BLOB_CAPABILITY,
            [ALIASES]: {},
            [SIEVE]: SIEVE_ACCOUNT_CAPABILITY,
          },
        },
      },
      primaryAccounts: {
        "urn:ietf:params:jmap:core": id,
        "urn:ietf:params:jmap:mail": id,
        ...(options.deliverer ? { [SUBMISSION]: id } : {}),
        [VACATION]: id,
        [QUOTA]: id,
        [BLOB]: id,
        [ALIASES]: id,
        [SIEVE]: id,
      },
      username: account.address,
      apiUrl: `${origin}/jmap/api`,
      downloadUrl: `${origin}/jmap/download/{accountId}/{blobId}/{name}?type={type}`,
      uploadUrl: `${origin}/jmap/upload/{accountId}`,
      eventSourceUrl: `${origin}/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}`,
      state: await accountState(store, account),
    });
  });

  app.post("/jmap/api", async (c) => {
    const account = accountOf(c);
    const bytes = await readBody(c, maxRequest);
    if (bytes === "too-large") {
      return jmapError(c, 413, "urn:ietf:params:jmap:error:limit", "The request is too large");
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return jmapError(c, 400, "urn:ietf:params:jmap:error:notJSON", "The request body is not JSON");
    }
    const known = [...CAPABILITIES, VACATION, QUOTA, BLOB, ALIASES, SIEVE, ...(options.deliverer ? [SUBMISSION] : [])];
    const request = checkRequest(body, known);
    if ("type" in request) return jmapError(c, 400, request.type, request.detail);
    const email = emailMethods(store, account);
    const methods: Record<string, Method> = {
      "Core/echo": async (args) => args,
      ...mailboxMethods(store, account),
      ...email,
      ...vacationMethods(store, account),
      ...quotaMethods(store, account),
      ...blobMethods(store, account),
      ...aliasMethods(store, account),
      ...sieveMethods(store, account),
      ...pushSubscriptionMethods(store, account, push),
      ...(options.deliverer ? submissionMethods(store, account, options.deliverer, email["Email/set"]) : {}),
    };
    const methodResponses = await runCalls(request.methodCalls, methods, request.using);
    return c.json({ methodResponses, sessionState: await accountState(store, account) });
  });

  // RFC 8620 §6.1: uploads become blobs (kept content-addressed; Email/import turns them into mail).
  app.post("/jmap/upload/:accountId", async (c) => {
    const account = accountOf(c);
    if (c.req.param("accountId") !== accountJmapId(account.id)) return c.body(null, 404);
    const bytes = await readBody(c, MAX_UPLOAD, options.spoolDir);
    if (bytes === "too-large") {
      return jmapError(c, 413, "urn:ietf:params:jmap:error:limit", "Uploads are limited to 50 MB");
    }
    const hash = await store.mail.upload(account.id, bytes);
    return c.json({
      accountId: accountJmapId(account.id),
      blobId: blobIdOf(hash),
      type: c.req.header("content-type") ?? "application/octet-stream",
      size: bytes.length,
    }, 201);
  });

  // RFC 8620 §6.2: whole messages, uploads and single body parts, as this account may read them.
  app.get("/jmap/download/:accountId/:blobId/:name", async (c) => {
    const account = accountOf(c);
    if (c.req.param("accountId") !== accountJmapId(account.id)) return c.body(null, 404);
    const bytes = await readBlob(store, account, c.req.param("blobId"));
    if (!bytes) return c.body(null, 404);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, downloadHeaders(c.req.query("type"), c.req.param("name")));
  });

  app.get("/jmap/eventsource", (c) => {
    const account = accountOf(c);
    // RFC 8620 §7.3: types is "*" or the comma-separated type names to be told of; with
    // closeafter=state the response ends after a state event (the first change after connecting).
    const only = c.req.query("types");
    const types = pushTypes(options.deliverer !== undefined)
      .filter((t) => !only || only === "*" || only.split(",").includes(t));
    const closeAfterState = c.req.query("closeafter") === "state";
    // The server may raise the interval to its minimum, and says so in each ping.
    const asked = Number(c.req.query("ping") ?? 0);
    const ping = Number.isFinite(asked) && asked > 0 ? Math.min(Math.max(asked, MIN_PING), MAX_PING) : 0;
    return streamSSE(c, async (stream) => {
      let last = "";
      const send = async () => {
        const state = await accountState(store, account);
        if (state === last || !types.length) return false;
        last = state;
        // One state string serves every type (the account's change log), so each type is named.
        await stream.writeSSE({ event: "state", data: JSON.stringify(stateChange(account, state, types)) });
        return true;
      };
      let wake: (() => void) | null = null;
      const unsubscribe = store.changes.subscribe(account.id, () => wake?.());
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      if (closeAfterState) {
        last = await accountState(store, account);
        // An SSE comment, ignored by clients: the response starts at once.
        await stream.write(":\n\n");
      } else await send();
      while (!stream.aborted) {
        // The ping timer is cleared however the wait ends: a pending one would outlive a client that left and
        // keep the process from exiting for up to MAX_PING seconds.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (ping > 0) timer = setTimeout(resolve, ping * 1000);
        });
        clearTimeout(timer);
        if (stream.aborted) break;
        if ((await send()) && closeAfterState) break;
        if (ping > 0) await stream.writeSSE({ event: "ping", data: JSON.stringify({ interval: ping }) });
      }
      unsubscribe();
    });
  });
}

export { CAPABILITIES };
