/**
 * JMAP `urn:postern:aliases` (issue 19) through Hono's `app.request()` over a real store:
 * Alias/get, Alias/set and Alias/query on the account's own aliases, with the rules of
 * `/api/v1/me/aliases` — open domains only, the account's own address as target, another's alias
 * invisible and untouchable — and the capability in the session and in `using`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

const ALIASES = "urn:postern:aliases";
const USING = ["urn:ietf:params:jmap:core", ALIASES];
let store: Store;
let cleanup: () => void;
let app: ReturnType<typeof createApp>;
let annToken: string;
let bobToken: string;
let ann: string;
let bob: string;

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  app = createApp({
    version: "0.0.0",
    startedAt: Date.now(),
    metrics: () => [],
    store,
    adminToken: "admin-token-0123456789",
  });
  await store.domains.add("example.test");
  await store.domains.add("alias.test", "forward");
  await store.domains.add("closed.test", "forward");
  await store.aliases.allowOwners("alias.test", true);
  ann = `A${(await store.accounts.add({ address: "ann@example.test", password: "long enough password" })).id}`;
  bob = `A${(await store.accounts.add({ address: "bob@example.test", password: "long enough password" })).id}`;
  annToken = (await store.tokens.create("ann@example.test", "aliases")).token;
  bobToken = (await store.tokens.create("bob@example.test", "aliases")).token;
  await store.aliases.add("admins@alias.test", ["ann@example.test"]);
});
afterAll(() => cleanup());

type Invocation = [string, Record<string, unknown>, string];

async function jmap(token: string, calls: Invocation[], using = USING): Promise<Invocation[]> {
  const res = await app.request("/jmap/api", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ using, methodCalls: calls }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { methodResponses: Invocation[] }).methodResponses;
}

const one = async (token: string, accountId: string, method: string, args: Record<string, unknown>) =>
  (await jmap(token, [[method, { accountId, ...args }, "c"]]))[0]!;

describe("JMAP urn:postern:aliases", () => {
  test("the session names the capability; without it in using the methods are unknown", async () => {
    const session = await (await app.request("/jmap/session", { headers: { authorization: `Bearer ${annToken}` } }))
      .json() as { capabilities: Record<string, unknown>; primaryAccounts: Record<string, string> };
    expect(session.capabilities[ALIASES]).toEqual({});
    expect(session.primaryAccounts[ALIASES]).toBe(ann);
    const [name, args] = (await jmap(annToken, [["Alias/get", { accountId: ann }, "c"]], [
      "urn:ietf:params:jmap:core",
    ]))[0]!;
    expect([name, args.type]).toEqual(["error", "unknownMethod"]);
  });

  test("create, get, disable, query and destroy the account's own aliases", async () => {
    const [, set] = await one(annToken, ann, "Alias/set", {
      create: { a: { address: "News@Alias.test" }, b: { address: "shop@alias.test", disabled: true } },
    });
    const created = set.created as Record<string, { id: string; address: string; targets: string[] }>;
    expect(created.a).toMatchObject({ address: "news@alias.test", targets: ["ann@example.test"], disabled: false });
    expect(created.b).toMatchObject({ address: "shop@alias.test", disabled: true });
    expect(created.a!.id).toMatch(/^AL\d+$/);
    expect(await store.aliases.route("news@alias.test")).toMatchObject({ targets: ["ann@example.test"] });

    // Only the account's own: the admin's alias to ann is not among them.
    const [, got] = await one(annToken, ann, "Alias/get", { ids: null, properties: ["address", "disabled"] });
    expect(got.list).toEqual([
      { id: created.a!.id, address: "news@alias.test", disabled: false },
      { id: created.b!.id, address: "shop@alias.test", disabled: true },
    ]);

    const [, upd] = await one(annToken, ann, "Alias/set", {
      ifInState: got.state,
      update: { [created.a!.id]: { disabled: true }, [created.b!.id]: { address: "x@alias.test" } },
    });
    expect(upd.updated).toEqual({ [created.a!.id]: null });
    expect(upd.notUpdated).toMatchObject({ [created.b!.id]: { type: "invalidProperties", properties: ["address"] } });
    expect(upd.newState).not.toBe(got.state);
    expect((await store.aliases.route("news@alias.test"))?.disabled).toBe(true);

    const [, query] = await one(annToken, ann, "Alias/query", {
      filter: { text: "NEWS" },
      sort: [{ property: "address" }],
      calculateTotal: true,
    });
    expect(query).toMatchObject({ ids: [created.a!.id], total: 1, position: 0, canCalculateChanges: false });
    const [, all] = await one(annToken, ann, "Alias/query", { sort: [{ property: "address", isAscending: false }] });
    expect(all.ids).toEqual([created.b!.id, created.a!.id]);
    expect((await one(annToken, ann, "Alias/query", { sort: [{ property: "owner" }] }))[1].type).toBe(
      "unsupportedSort",
    );
    expect((await one(annToken, ann, "Alias/query", { filter: { owner: "x" } }))[1].type).toBe("unsupportedFilter");

    const [, gone] = await one(annToken, ann, "Alias/set", { destroy: [created.a!.id, "AL999999"] });
    expect(gone.destroyed).toEqual([created.a!.id]);
    expect(gone.notDestroyed).toEqual({ AL999999: { type: "notFound" } });
    expect(await store.aliases.get("news@alias.test")).toBeUndefined();
  });

  test("the rules of /api/v1/me/aliases: closed domains, catch-alls, others' aliases", async () => {
    const [, set] = await one(annToken, ann, "Alias/set", {
      create: {
        closed: { address: "x@closed.test" },
        all: { address: "@alias.test" },
        taken: { address: "admins@alias.test" },
        bad: { address: "not an address" },
        extra: { address: "y@alias.test", targets: ["eve@evil.test"] },
      },
    });
    expect(set.created).toEqual({});
    expect(set.notCreated).toMatchObject({
      closed: { type: "forbidden" },
      all: { type: "forbidden" },
      taken: { type: "invalidProperties", properties: ["address"] },
      bad: { type: "invalidProperties", properties: ["address"] },
      extra: { type: "invalidProperties", properties: ["targets"] },
    });
    // Bob cannot see, change or destroy ann's alias.
    const [, mine] = await one(annToken, ann, "Alias/set", { create: { s: { address: "secret@alias.test" } } });
    const id = (mine.created as Record<string, { id: string }>).s!.id;
    const [, bobGet] = await one(bobToken, bob, "Alias/get", { ids: [id] });
    expect(bobGet).toMatchObject({ list: [], notFound: [id] });
    const [, bobSet] = await one(bobToken, bob, "Alias/set", { update: { [id]: { disabled: true } }, destroy: [id] });
    expect(bobSet).toMatchObject({
      notUpdated: { [id]: { type: "notFound" } },
      notDestroyed: { [id]: { type: "notFound" } },
    });
    expect(await store.aliases.route("secret@alias.test")).toMatchObject({ disabled: false });
    // Another account's id in accountId is accountNotFound; a stale ifInState is stateMismatch.
    expect((await one(bobToken, ann, "Alias/get", {}))[1].type).toBe("accountNotFound");
    expect((await one(annToken, ann, "Alias/set", { ifInState: "stale", destroy: [id] }))[1].type).toBe(
      "stateMismatch",
    );
  });

  test("arguments of the wrong type are invalidArguments, from the schema (types/alias.ts)", async () => {
    const calls = await jmap(annToken, [
      ["Alias/get", { accountId: ann, ids: "AL1" }, "idsString"],
      ["Alias/get", { accountId: ann, properties: ["address", "owner"] }, "unknownProperty"],
      ["Alias/set", { accountId: ann, create: [] }, "createList"],
      ["Alias/set", { accountId: ann, destroy: [1] }, "destroyNumbers"],
      ["Alias/query", { accountId: ann, filter: { disabled: "yes" } }, "disabledString"],
      ["Alias/query", { accountId: ann, filter: { text: 5 } }, "textNumber"],
      ["Alias/query", { accountId: ann, sort: {} }, "sortObject"],
      ["Alias/query", { accountId: ann, limit: -1 }, "negativeLimit"],
      ["Alias/query", {}, "noAccount"],
    ]);
    for (const [name, args, id] of calls) expect([id, name, args.type]).toEqual([id, "error", "invalidArguments"]);
    // An address set on an update is refused as immutable; a property the type lacks, as unknown.
    const [, made] = await one(annToken, ann, "Alias/set", { create: { s: { address: "typed@alias.test" } } });
    const id = (made.created as Record<string, { id: string }>).s!.id;
    const [, set] = await one(annToken, ann, "Alias/set", {
      update: { [id]: { address: "other@alias.test" } },
      create: { x: { address: "x2@alias.test", owner: "me" }, y: { address: "y2@alias.test", forwarded: 3 } },
    });
    expect(set.notUpdated).toMatchObject({ [id]: { type: "invalidProperties", properties: ["address"] } });
    expect(set.notCreated).toMatchObject({
      x: { type: "invalidProperties", properties: ["owner"] },
      y: { type: "invalidProperties", properties: ["forwarded"] },
    });
  });
});
