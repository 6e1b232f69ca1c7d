/**
 * The `policy.*` keys. The checks themselves belong to the policy issue; the keys are part of the
 * contract now so that a config file written today keeps working.
 */
import * as v from "valibot";

const port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
const onFailure = v.optional(v.picklist(["accept", "tempfail"]), "accept");
const timeout = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10_000);

/** A daemon reached over TCP (`host`, `port`) or a unix `socket`. */
const daemon = (defaultPort: number) =>
  v.optional(
    v.union([
      v.literal(false),
      v.strictObject({
        host: v.optional(v.string(), "127.0.0.1"),
        port: v.optional(port, defaultPort),
        socket: v.optional(v.string()),
        timeout,
        onFailure,
      }),
    ]),
    false,
  );

export const policySchema = v.optional(
  v.strictObject({
    spamassassin: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({
          host: v.optional(v.string(), "127.0.0.1"),
          port: v.optional(port, 783),
          socket: v.optional(v.string()),
          timeout,
          onFailure,
          /** Spam scoring this much or more is refused at SMTP time; less goes to Junk. */
          rejectScore: v.optional(v.number(), 10),
        }),
      ]),
      false,
    ),
    clamav: daemon(3310),
    rspamd: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({ url: v.pipe(v.string(), v.url()), timeout, onFailure }),
      ]),
      false,
    ),
    dnsbl: v.optional(
      v.strictObject({
        zones: v.optional(v.array(v.string()), []),
      }),
      {},
    ),
    greylist: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({
          /** Seconds a new triplet must wait. */
          delay: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 300),
          /** Seconds a passed triplet is remembered. */
          expiry: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 36 * 24 * 3600),
        }),
      ]),
      false,
    ),
    /** Per hour: messagesPerIpPerHour (inbound), messagesPerAccountPerHour, recipientsPerAccountPerHour. */
    rateLimits: v.optional(
      v.strictObject({
        messagesPerIpPerHour: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
        messagesPerAccountPerHour: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
        recipientsPerAccountPerHour: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      }),
      {},
    ),
    dmarc: v.optional(v.strictObject({ enforce: v.optional(v.boolean(), false) }), {}),
    /** Module paths (`./hooks.ts`) and HTTP hook URLs. */
    hooks: v.optional(v.array(v.string()), []),
  }),
  {},
);
