/**
 * JMAP push (RFC 8620 §7): the StateChange object that both the EventSource stream and push
 * subscriptions carry, and the notifier that POSTs to subscriptions — the PushVerification when
 * one is made (§7.2.2), then a StateChange after each committed change of the account while it
 * is verified and not expired. A push endpoint is https, or http to a loopback host, and never a
 * private address unless `outbound.allowPrivateTargets` allows it (src/net/outbound-url.ts): it is
 * checked when the subscription is made and again, resolved afresh, before every POST, which
 * goes to the address checked and follows no redirect.
 *
 * Several `serve` processes on one database all hear of every change (the change-log watch), so
 * one of them pushes it: the holder of a lease in the database, which it takes or renews for
 * LEASE_MS each time it is about to push (one write transaction decides, so of two processes
 * handling the same change only one holds the lease). A holder that died is replaced once its
 * lease expires; a change made in that gap is pushed with the next one. Every process re-reads the
 * live subscriptions every WATCH_MS, so it also watches the accounts of those made elsewhere.
 */
import { checkOutboundUrl, type OutboundPolicy, postToTarget } from "../../net/outbound-url.ts";
import type { PushSubscription } from "../../store/push-subscriptions.ts";
import type { Store } from "../../store/store.ts";
import { accountJmapId, accountState, type JmapAccount } from "./mailbox.ts";
import { encryptPush } from "./push-encryption.ts";

/** The data types of an account, all of which share its one state string. */
export function pushTypes(submission: boolean): string[] {
  return [
    "Email",
    "Mailbox",
    "Thread",
    "VacationResponse",
    "Quota",
    "SieveScript",
    ...(submission ? ["Identity", "EmailSubmission"] : []),
  ];
}

/** RFC 8620 §7.1 StateChange: the new state of each type (of those asked for) of one account. */
export function stateChange(account: JmapAccount, state: string, types: readonly string[]) {
  return {
    "@type": "StateChange",
    changed: { [accountJmapId(account.id)]: Object.fromEntries(types.map((t) => [t, state])) },
  };
}

/** How long a push may take before it is given up. */
const PUSH_TIMEOUT_MS = 10_000;
/** How long the push lease lasts unless its holder pushes again. */
const LEASE_MS = 6_000;
/** How often the live subscriptions are read again. */
const WATCH_MS = 2_000;

export class PushNotifier {
  readonly #store: Store;
  readonly #types: readonly string[];
  /** Accounts with live subscriptions: the unsubscribe of their change listener. */
  readonly #watched = new Map<number, () => void>();
  /** Accounts whose push is scheduled: changes that arrive together make one push. */
  readonly #scheduled = new Set<number>();
  readonly #outbound: OutboundPolicy;
  #watchTimer: ReturnType<typeof setInterval> | undefined;
  /** The state last pushed per account: a change heard twice (committed here and seen by the watch) is pushed once. */
  readonly #pushed = new Map<number, string>();

  constructor(store: Store, types: readonly string[], outbound: OutboundPolicy = {}) {
    this.#store = store;
    this.#types = types;
    this.#outbound = outbound;
  }

  /** Why a push endpoint may not be contacted (a private address that is not allowed), or null. */
  async refusal(url: string): Promise<string | null> {
    const target = await checkOutboundUrl(url, this.#outbound);
    return "refusal" in target ? target.refusal : null;
  }

  /** Listens for the accounts that have live subscriptions, made by this process or another, until the store closes. */
  async start(): Promise<void> {
    await this.#watchDue();
    this.#watchTimer ??= setInterval(() => {
      if (this.#store.closed) clearInterval(this.#watchTimer);
      else void this.#watchDue().catch((e) => console.error("JMAP push subscriptions:", (e as Error).message));
    }, WATCH_MS);
    (this.#watchTimer as { unref?: () => void }).unref?.();
  }

  async #watchDue(): Promise<void> {
    for (const subscription of await this.#store.pushSubscriptions.due(new Date())) this.watch(subscription.accountId);
  }

  /** Listens for this account's changes (after a subscription of it is verified). */
  watch(accountId: number): void {
    if (this.#watched.has(accountId)) return;
    this.#watched.set(accountId, this.#store.changes.subscribe(accountId, () => this.#schedule(accountId)));
  }

  /** RFC 8620 §7.2.2: the code the client must set on the subscription before pushes start. */
  verify(subscription: PushSubscription): void {
    void this.#post(subscription, {
      "@type": "PushVerification",
      pushSubscriptionId: pushSubscriptionId(subscription.id),
      verificationCode: subscription.verificationCode,
    });
  }

  #schedule(accountId: number): void {
    if (this.#scheduled.has(accountId)) return;
    this.#scheduled.add(accountId);
    queueMicrotask(() => {
      this.#scheduled.delete(accountId);
      this.#push(accountId).catch((e) => console.error("JMAP push failed:", e));
    });
  }

  async #push(accountId: number): Promise<void> {
    const subscriptions = await this.#store.pushSubscriptions.due(new Date(), accountId);
    if (!subscriptions.length) {
      this.#watched.get(accountId)?.();
      this.#watched.delete(accountId);
      return;
    }
    // Another process holds the lease: it pushes this change (it hears of it from the change log).
    if (!(await this.#store.pushSubscriptions.hold(this.#store.instanceId, LEASE_MS))) return;
    const state = await accountState(this.#store, { id: accountId, address: "" });
    if (this.#pushed.get(accountId) === state) return;
    this.#pushed.set(accountId, state);
    for (const subscription of subscriptions) {
      const types = subscription.types ? this.#types.filter((t) => subscription.types!.includes(t)) : this.#types;
      if (types.length) await this.#post(subscription, stateChange({ id: accountId, address: "" }, state, types));
    }
  }

  /**
   * POSTs one JSON object, encrypted when the subscription has keys (RFC 8620 §7.2, RFC 8291); a
   * failure is logged, and the next change is pushed all the same.
   */
  async #post(subscription: PushSubscription, object: unknown): Promise<void> {
    const url = subscription.url;
    const json = new TextEncoder().encode(JSON.stringify(object));
    const body = subscription.keys ? encryptPush(json, subscription.keys) : json;
    const headers: Record<string, string> = subscription.keys
      ? { "content-type": "application/octet-stream", "content-encoding": "aes128gcm", ttl: "86400" }
      : { "content-type": "application/json", ttl: "86400" };
    try {
      const target = await checkOutboundUrl(url, this.#outbound);
      if ("refusal" in target) {
        console.error(`JMAP push to ${new URL(url).origin} refused: ${target.refusal}`);
        return;
      }
      // A 3xx is not followed (it could point anywhere, a private address included): it fails like any non-2xx.
      const status = await postToTarget(target, { headers, body, timeoutMs: PUSH_TIMEOUT_MS });
      // RFC 8030 §7.3: a push service answers 404 or 410 for a subscription that is gone for good.
      if (status === 404 || status === 410) {
        await this.#store.pushSubscriptions.destroy(subscription.accountId, subscription.id);
      } else if (status < 200 || status > 299) console.error(`JMAP push to ${new URL(url).origin} answered ${status}`);
    } catch (e) {
      console.error(`JMAP push to ${new URL(url).origin} failed: ${(e as Error).message}`);
    }
  }
}

export const pushSubscriptionId = (id: number) => `P${id}`;
