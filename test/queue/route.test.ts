/**
 * The outbound router's transport map (issue 19, bug 3): a domain's own entry, then `"*"` for
 * every other domain, then the smart host, then DNS. The config refuses keys that are neither.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { routeFor } from "../../src/queue/route.ts";

const noDns = (name: string) => Promise.reject(Object.assign(new Error(`no DNS for ${name}`), { code: "ENOTFOUND" }));
const mxDns = (name: string) => Promise.resolve([{ exchange: `mx.${name}`, priority: 10 }]);

describe("routeFor and the transport map", () => {
  test('"*" sends every remote domain through one host, with no DNS lookup', async () => {
    const transport = { "*": "127.0.0.1:2526" };
    for (const domain of ["gmail.example", "Some-Where.Example", "x.test."]) {
      expect(await routeFor(domain, { transport, resolve: noDns })).toEqual({
        kind: "hops",
        hops: [{ host: "127.0.0.1", port: 2526 }],
        relay: false,
      });
    }
  });

  test('a domain\'s own entry wins over "*", and "*" over relayHost', async () => {
    const transport = { "*": "catch.example:25", "special.example": "[::1]:2600" };
    expect(await routeFor("SPECIAL.example", { transport, relayHost: "relay.example:587", resolve: noDns }))
      .toEqual({ kind: "hops", hops: [{ host: "::1", port: 2600 }], relay: false });
    expect(await routeFor("other.example", { transport, relayHost: "relay.example:587", resolve: noDns }))
      .toEqual({ kind: "hops", hops: [{ host: "catch.example", port: 25 }], relay: false });
  });

  test('without "*", other domains go to relayHost, or their MX', async () => {
    const transport = { "special.example": "127.0.0.1:2600" };
    expect(await routeFor("other.example", { transport, relayHost: "relay.example:587", resolve: noDns }))
      .toEqual({ kind: "hops", hops: [{ host: "relay.example", port: 587 }], relay: true });
    expect(await routeFor("other.example", { transport, resolve: mxDns }))
      .toEqual({ kind: "hops", hops: [{ host: "mx.other.example", port: 25 }], relay: false });
  });
});

describe("delivery.transport in the config", () => {
  const load = (transport: unknown) => loadConfig({ env: { POSTERN_DELIVERY_TRANSPORT: JSON.stringify(transport) } });

  test('"*" and domain keys are accepted; domain keys in lower case without a final dot', () => {
    expect(load({ "*": "127.0.0.1:2526", "Example.NET.": "mx.example.net:25" }).delivery.transport).toEqual({
      "*": "127.0.0.1:2526",
      "example.net": "mx.example.net:25",
    });
  });

  test('a key that is neither a domain nor "*" is refused, naming the key', () => {
    for (const key of ["*.example.net", "not a domain", ""]) {
      let error: unknown;
      try {
        load({ [key]: "127.0.0.1:25" });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toStartWith("delivery.transport");
      expect((error as ConfigError).reason).toBe('must be a domain name or "*"');
    }
  });
});
