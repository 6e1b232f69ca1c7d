/**
 * JMAP PushSubscription/get and /set (RFC 8620 §7.2). Subscriptions belong to the credentials'
 * account but are not account data: no accountId, no state. A new one is sent a verification
 * code (push.ts) and is pushed to once the client has set that code on it, encrypted when it
 * has keys (RFC 8291); `expires` is capped at a week and honoured. A url whose host is (or
 * resolves to) a private address is refused unless `outbound.allowPrivateTargets` allows it.
 */
import { randomBytes } from "node:crypto";
import { webhookRefusal } from "../../forward/webhook-target.ts";
import type { PushSubscription, PushSubscriptionPatch } from "../../store/push-subscriptions.ts";
import type { Store } from "../../store/store.ts";
import { type JmapAccount, parseId } from "./mailbox.ts";
import { type PushNotifier, pushSubscriptionId } from "./push.ts";
import { type PushKeys, usableKeys } from "./push-encryption.ts";
import { MethodError, utcDate } from "./request.ts";
import { notSettable, pick, requestedProperties, UTC_DATE } from "./schemas.ts";
import { PUSH_SUBSCRIPTION } from "./types/push-subscription.ts";
import type { SetError } from "./submission-plan.ts";

/** §7.2: private to the device, never returned. */
const PRIVATE = ["url", "keys"];
/** Subscriptions per account: each is a URL the server POSTs to on every change. */
const MAX_SUBSCRIPTIONS = 50;
/** The longest a subscription lives without being renewed (§7.2: the server may shorten expires). */
const MAX_LIFETIME_MS = 7 * 24 * 3600 * 1000;

const invalid = (property: string, description: string): SetError => ({
  type: "invalidProperties",
  description,
  properties: [property],
});

function subscriptionObject(row: PushSubscription): Record<string, unknown> {
  return {
    id: pushSubscriptionId(row.id),
    deviceClientId: row.deviceClientId,
    // The code the client set, once it has.
    verificationCode: row.verified ? row.verificationCode : null,
    expires: row.expires ? utcDate(row.expires) : null,
    types: row.types,
  };
}

/** An expires value as asked, capped; a SetError when it is not a future UTCDate. */
function expiresOf(value: unknown, now: number): Date | SetError {
  const cap = new Date(Math.floor((now + MAX_LIFETIME_MS) / 1000) * 1000);
  if (value === null || value === undefined) return cap;
  if (typeof value !== "string" || !UTC_DATE.test(value) || Number.isNaN(Date.parse(value))) {
    return invalid("expires", "expires is a UTCDate or null");
  }
  const asked = new Date(value);
  if (asked.getTime() <= now) return invalid("expires", "expires is in the past");
  return asked < cap ? asked : cap;
}

function typesOf(value: unknown): string[] | null | SetError {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || !value.every((t) => typeof t === "string")) {
    return invalid("types", "types is a list of type names or null");
  }
  return value;
}

export function pushSubscriptionMethods(store: Store, account: JmapAccount, notifier: PushNotifier) {
  const owned = async (ids?: readonly string[]) => {
    const numbers = ids?.map((id) => parseId("P", id)).filter((n): n is number => n !== null);
    return store.pushSubscriptions.list(account.id, numbers);
  };
  return {
    async "PushSubscription/get"(args: Record<string, unknown>) {
      const requested = (args.ids as string[] | null | undefined) ?? null;
      const secret = (args.properties as string[] | null | undefined)?.find((p) => PRIVATE.includes(p));
      if (secret) throw new MethodError("forbidden", `${secret} is never returned (RFC 8620 §7.2)`);
      const properties = requestedProperties(PUSH_SUBSCRIPTION, args.properties);
      const all = (await owned(requested ?? undefined)).map(subscriptionObject);
      const list = all.map((s) => pick(s, properties));
      return { list, notFound: requested ? requested.filter((id) => !all.some((s) => s.id === id)) : [] };
    },

    async "PushSubscription/set"(args: Record<string, unknown>) {
      const created: Record<string, Record<string, unknown>> = {};
      const notCreated: Record<string, SetError> = {};
      const creates = Object.entries((args.create ?? {}) as Record<string, unknown>);
      let count = creates.length ? (await owned()).length : 0;
      for (const [key, value] of creates) {
        const spec = (value ?? {}) as Record<string, unknown>;
        const extra = Object.keys(spec).find((k) =>
          notSettable(PUSH_SUBSCRIPTION, true).includes(k) || !(k in PUSH_SUBSCRIPTION.properties)
        );
        const expires = expiresOf(spec.expires, Date.now());
        const types = typesOf(spec.types);
        const refusal = typeof spec.url === "string"
          ? webhookRefusal(spec.url) ?? (await notifier.refusal(spec.url))
          : "url is required";
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          notCreated[key] = invalid("", "A PushSubscription object");
        } else if (count >= MAX_SUBSCRIPTIONS) {
          notCreated[key] = { type: "overQuota", description: `At most ${MAX_SUBSCRIPTIONS} push subscriptions` };
        } else if (extra) notCreated[key] = invalid(extra, `${extra} cannot be set`);
        else if (typeof spec.deviceClientId !== "string" || !spec.deviceClientId) {
          notCreated[key] = invalid("deviceClientId", "deviceClientId is a non-empty string");
        } else if (refusal) {
          notCreated[key] = invalid("url", `${refusal} (https, or http to a loopback host; no private address)`);
        } else if (spec.keys !== undefined && spec.keys !== null && !usableKeys(spec.keys)) {
          notCreated[key] = invalid("keys", "keys are a P-256 p256dh and a 16-octet auth, base64url (RFC 8291)");
        } // §7.2: the code comes from the server.
        else if (spec.verificationCode !== undefined && spec.verificationCode !== null) {
          notCreated[key] = invalid("verificationCode", "verificationCode is null when a subscription is created");
        } else if ("type" in expires) notCreated[key] = expires;
        else if (types !== null && "type" in types) notCreated[key] = types;
        else {
          const row = await store.pushSubscriptions.create(account.id, {
            deviceClientId: spec.deviceClientId,
            url: spec.url as string,
            keys: spec.keys ? { p256dh: (spec.keys as PushKeys).p256dh, auth: (spec.keys as PushKeys).auth } : null,
            verificationCode: randomBytes(18).toString("base64url"),
            expires,
            types,
          });
          count++;
          // Committed first: the client may set the code back as soon as it arrives.
          notifier.verify(row);
          created[key] = { id: pushSubscriptionId(row.id), expires: utcDate(expires) };
        }
      }

      const updated: Record<string, Record<string, unknown> | null> = {};
      const notUpdated: Record<string, SetError> = {};
      const updates = Object.entries((args.update ?? {}) as Record<string, unknown>);
      const existing = new Map((await owned(updates.map(([id]) => id))).map((r) => [pushSubscriptionId(r.id), r]));
      for (const [id, value] of updates) {
        const row = existing.get(id);
        if (!row) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          notUpdated[id] = { type: "invalidPatch", description: "A patch object" };
          continue;
        }
        const patch: PushSubscriptionPatch = {};
        let error: SetError | null = null;
        let serverExpires: Date | null = null;
        for (const [key, v] of Object.entries(value)) {
          if (key === "verificationCode") {
            // §7.2.2: the code sent in the PushVerification, and nothing else, verifies it.
            if (v !== row.verificationCode) error ??= invalid(key, "Not the verification code that was sent");
            else patch.verified = true;
          } else if (key === "expires") {
            const expires = expiresOf(v, Date.now());
            if ("type" in expires) error ??= expires;
            else {
              patch.expires = expires;
              if (v === null || expires.getTime() !== Date.parse(v as string)) serverExpires = expires;
            }
          } else if (key === "types") {
            const types = typesOf(v);
            if (types !== null && "type" in types) error ??= types;
            else patch.types = types;
          } else if (!(key in PUSH_SUBSCRIPTION.properties)) error ??= invalid(key, `No property ${key}`);
          else error ??= invalid(key, `${key} cannot be changed`);
        }
        if (error) {
          notUpdated[id] = error;
          continue;
        }
        const after = await store.pushSubscriptions.update(account.id, row.id, patch);
        if (!after) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        if (after.verified) notifier.watch(account.id);
        // §5.3: a property the server set otherwise than asked comes back.
        updated[id] = serverExpires ? { expires: utcDate(serverExpires) } : null;
      }

      const destroyed: string[] = [];
      const notDestroyed: Record<string, SetError> = {};
      for (const id of (args.destroy ?? []) as string[]) {
        const n = parseId("P", id);
        if (n !== null && (await store.pushSubscriptions.destroy(account.id, n))) destroyed.push(id);
        else notDestroyed[id] = { type: "notFound" };
      }
      return { created, notCreated, updated, notUpdated, destroyed, notDestroyed };
    },
  };
}
