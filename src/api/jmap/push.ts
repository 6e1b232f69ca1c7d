/**
 * JMAP push (RFC 8620 §7): the StateChange object that both the EventSource stream and push
 * subscriptions carry, and the notifier that POSTs to subscriptions — the PushVerification when
 * one is made (§7.2.2), then a StateChange after each committed change of the account while it
 * is verified and not expired. A push endpoint is https, or http to a loopback host, and never a
 * private address unless `outbound.allowPrivateTargets` allows it (src/net/outbound-url.ts): it is
 * checked when the subscription is made and again, resolved afresh, before every POST, which
 * goes to the address checked and follows no redirect.
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

export class PushNotifier {
  readonly #store: Store;
  readonly #types: readonly string[];
  /** Accounts with live subscriptions: the unsubscribe of their change listener. */
  readonly #watched = new Map<number, () => void>();
  /** Accounts whose push is scheduled: changes that arrive together make one push. */
  readonly #scheduled = new Set<number>();
  readonly #outbound: OutboundPolicy;

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

  /** Listens for the accounts that have live subscriptions. */
  async start(): Promise<void> {
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
    const state = await accountState(this.#store, { id: accountId, address: "" });
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
