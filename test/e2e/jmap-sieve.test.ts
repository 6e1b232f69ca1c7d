/**
 * JMAP for Sieve (RFC 9661) against `postern serve` (Bun or Deno): the capability, SieveScript/set creating from an
 * upload with onSuccessActivateScript, get with a downloadable blobId, update (rename and new content), query,
 * validate, /changes, the SetErrors (invalidSieve, alreadyExists, sieveIsActive, blobNotFound), onSuccessDeactivateScript,
 * arguments of the wrong type; the
 * scripts are the ones ManageSieve and delivery see, and another account sees none of them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { type JmapSession, jmapSession, USING } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";

const SIEVE = "urn:ietf:params:jmap:sieve";
const ALL = [...USING, SIEVE];

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http", "smtp"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

type Args = Record<string, unknown>;
const call = async (session: JmapSession, method: string, args: Args) =>
  (await session.request([[method, { accountId: session.accountId, ...args }, "0"]], ALL))[0]!;

const DISCARD_SPAM = 'if header :contains "subject" "spam" { discard; }\r\n';

describe(`JMAP for Sieve on ${runtime()}`, () => {
  test("the capability in the session, and SieveScript methods only with it in using", async () => {
    const session = await (await fetch(`${jo.base}/jmap/session`, { headers: { authorization: jo.authorization } }))
      .json() as {
        capabilities: Record<string, unknown>;
        accounts: Record<string, { accountCapabilities: Record<string, Args> }>;
        primaryAccounts: Record<string, string>;
      };
    expect(session.capabilities[SIEVE]).toEqual({});
    const capability = session.accounts[jo.accountId]!.accountCapabilities[SIEVE]!;
    expect(capability).toMatchObject({
      maxSizeScriptName: 128,
      maxSizeScript: 1024 * 1024,
      maxNumberScripts: 100,
      maxNumberRedirects: 4,
      implementation: "Postern",
    });
    expect(capability.sieveExtensions).toContain("fileinto");
    expect(session.primaryAccounts[SIEVE]).toBe(jo.accountId);
    const without = await jo.request([["SieveScript/get", { accountId: jo.accountId }, "0"]], USING);
    expect(without[0]![0]).toBe("error");
    expect(without[0]![1].type).toBe("unknownMethod");
  });

  test("create from an upload and activate, get, download, query, update, validate, destroy", async () => {
    const blob = await jo.upload(DISCARD_SPAM, "application/sieve");
    const [name, set] = await call(jo, "SieveScript/set", {
      create: { a: { name: "spam", blobId: blob.blobId }, b: { blobId: blob.blobId } },
      onSuccessActivateScript: "#a",
    });
    expect(name).toBe("SieveScript/set");
    const created = set.created as Record<string, Args>;
    expect(created.a).toMatchObject({ name: "spam", isActive: true });
    // Without a name, the server chooses one.
    expect(created.b).toMatchObject({ name: "script", isActive: false });
    const spamId = created.a!.id as string;
    const otherId = created.b!.id as string;

    const [, got] = await call(jo, "SieveScript/get", { ids: [spamId, "S999999"] });
    expect(got.notFound).toEqual(["S999999"]);
    const [script] = got.list as Args[];
    expect(script).toMatchObject({ id: spamId, name: "spam", isActive: true });
    expect(await (await jo.download(script!.blobId as string, "spam.sieve")).text()).toBe(DISCARD_SPAM);
    expect(got.state).toBe(set.newState);

    // The same script is what ManageSieve lists and what delivery runs.
    const listed = await mail.server.cli(["sieve", "list", "jo@example.test"]);
    expect(listed.stdout).toMatch(/^script\t\t/m);
    expect(listed.stdout).toMatch(/^spam\tactive\t/m);
    const smtp = nodemailer.createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true });
    for (const subject of ["buy spam now", "hello"]) {
      await smtp.sendMail({
        envelope: { from: "x@remote.test", to: ["jo@example.test"] },
        raw: `From: x@remote.test\r\nTo: jo@example.test\r\nSubject: ${subject}\r\n\r\nhi\r\n`,
      });
    }
    expect((await readInbox(mail.dataDir, "jo@example.test")).map((m) => /Subject: (.*)\r\n/.exec(m.raw)?.[1]))
      .toEqual(["hello"]);

    const [, query] = await call(jo, "SieveScript/query", {
      filter: { isActive: false },
      sort: [{ property: "name" }],
      calculateTotal: true,
    });
    expect(query).toMatchObject({ ids: [otherId], total: 1, position: 0, canCalculateChanges: false });
    const [, byName] = await call(jo, "SieveScript/query", { filter: { name: "pa" } });
    expect(byName.ids).toEqual([spamId]);
    const [, sorted] = await call(jo, "SieveScript/query", { sort: [{ property: "isActive", isAscending: false }] });
    expect(sorted.ids).toEqual([spamId, otherId]);
    const [err, unsupported] = await call(jo, "SieveScript/query", { sort: [{ property: "size" }] });
    expect([err, unsupported.type]).toEqual(["error", "unsupportedSort"]);

    // Update: rename and new content; then activate the other one, which deactivates the first.
    const keep = await jo.upload("keep;\r\n");
    const [, renamed] = await call(jo, "SieveScript/set", {
      update: { [otherId]: { name: "plain", blobId: keep.blobId } },
      onSuccessActivateScript: otherId,
    });
    expect(renamed.notUpdated).toEqual({});
    expect(renamed.updated).toEqual({ [otherId]: { isActive: true }, [spamId]: { isActive: false } });
    const [, after] = await call(jo, "SieveScript/get", { ids: [otherId], properties: ["name", "isActive"] });
    expect(after.list).toEqual([{ id: otherId, name: "plain", isActive: true }]);

    // Refusals: a broken script, a taken name, the active script, a missing blob, isActive set directly.
    const broken = await jo.upload('require "fileinto";\r\nfileinto "x"\r\n');
    const [, refused] = await call(jo, "SieveScript/set", {
      create: {
        bad: { name: "bad", blobId: broken.blobId },
        dup: { name: "spam", blobId: keep.blobId },
        gone: { name: "gone", blobId: `B${"0".repeat(64)}` },
        active: { name: "x", blobId: keep.blobId, isActive: true },
      },
      update: { [spamId]: { blobId: broken.blobId } },
      destroy: [otherId],
      onSuccessDeactivateScript: true,
    });
    const notCreated = refused.notCreated as Record<string, Args>;
    expect(notCreated.bad).toMatchObject({ type: "invalidSieve" });
    expect(notCreated.bad!.description).toMatch(/^line 3, column 1: /);
    expect(notCreated.dup).toMatchObject({ type: "alreadyExists", existingId: spamId });
    expect(notCreated.gone).toMatchObject({ type: "blobNotFound" });
    expect(notCreated.active).toMatchObject({ type: "invalidProperties", properties: ["isActive"] });
    expect((refused.notUpdated as Record<string, Args>)[spamId]).toMatchObject({ type: "invalidSieve" });
    expect((refused.notDestroyed as Record<string, Args>)[otherId]).toMatchObject({ type: "sieveIsActive" });
    // Something failed, so onSuccessDeactivateScript did nothing.
    expect(refused.updated).toEqual({});
    expect((await mail.server.cli(["sieve", "get", "jo@example.test", "spam"])).stdout).toBe(DISCARD_SPAM);

    const [, validOk] = await call(jo, "SieveScript/validate", { blobId: keep.blobId });
    expect(validOk).toEqual({ accountId: jo.accountId, error: null });
    const [, validBad] = await call(jo, "SieveScript/validate", { blobId: broken.blobId });
    expect((validBad.error as Args).type).toBe("invalidSieve");

    // Deactivate, then destroy both.
    const [, off] = await call(jo, "SieveScript/set", { onSuccessDeactivateScript: true });
    expect(off.updated).toEqual({ [otherId]: { isActive: false } });
    const [, gone] = await call(jo, "SieveScript/set", { destroy: [otherId, spamId] });
    expect(gone.destroyed).toEqual([otherId, spamId]);
    expect((await call(jo, "SieveScript/get", {}))[1].list).toEqual([]);
  }, 60_000);

  test("SieveScript/changes: created, updated, destroyed since a state, ManageSieve's changes too (RFC 9661 §2.2)", async () => {
    const [, start] = await call(jo, "SieveScript/get", { ids: [] });
    const since = start.state as string;
    const blob = await jo.upload(DISCARD_SPAM, "application/sieve");
    const [, set] = await call(jo, "SieveScript/set", {
      create: { c1: { name: "changes-1", blobId: blob.blobId }, c2: { name: "changes-2", blobId: blob.blobId } },
    });
    const created = set.created as Record<string, { id: string }>;
    const [one, two] = [created.c1!.id, created.c2!.id];
    const [, after] = await call(jo, "SieveScript/changes", { sinceState: since });
    expect(after).toMatchObject({ oldState: since, newState: set.newState, hasMoreChanges: false, updated: [] });
    expect((after.created as string[]).sort()).toEqual([one, two].sort());

    // A rename through JMAP, and a destroy through ManageSieve's store path (the CLI), are both seen.
    const [, renamed] = await call(jo, "SieveScript/set", { update: { [one]: { name: "changes-1b" } } });
    expect((await mail.server.cli(["sieve", "delete", "jo@example.test", "changes-2"])).code).toBe(0);
    const [, later] = await call(jo, "SieveScript/changes", { sinceState: set.newState });
    expect(later).toMatchObject({ created: [], updated: [one], destroyed: [two] });
    expect(Number(later.newState)).toBeGreaterThan(Number(renamed.newState));
    // Created and destroyed in between is neither; maxChanges pages; a bad state cannot be calculated.
    const [, whole] = await call(jo, "SieveScript/changes", { sinceState: since });
    expect(whole).toMatchObject({ created: [one], updated: [], destroyed: [] });
    const [, paged] = await call(jo, "SieveScript/changes", { sinceState: since, maxChanges: 1 });
    expect(paged).toMatchObject({ hasMoreChanges: true });
    const [, bad] = await call(jo, "SieveScript/changes", { sinceState: "not a state" });
    expect(bad.type).toBe("cannotCalculateChanges");
    await call(jo, "SieveScript/set", { destroy: [one] });
  });

  test("arguments of the wrong type are invalidArguments, from the schema (types/sieve-script.ts)", async () => {
    const calls = await jo.request([
      ["SieveScript/get", { accountId: jo.accountId, ids: "S1" }, "idsString"],
      ["SieveScript/get", { accountId: jo.accountId, properties: ["content"] }, "unknownProperty"],
      ["SieveScript/set", { accountId: jo.accountId, onSuccessActivateScript: 1 }, "activateNumber"],
      ["SieveScript/set", { accountId: jo.accountId, onSuccessDeactivateScript: "yes" }, "deactivateString"],
      ["SieveScript/set", { accountId: jo.accountId, update: [] }, "updateList"],
      ["SieveScript/query", { accountId: jo.accountId, filter: { isActive: "no" } }, "isActiveString"],
      ["SieveScript/query", { accountId: jo.accountId, filter: { name: 1 } }, "nameNumber"],
      ["SieveScript/validate", { accountId: jo.accountId }, "noBlob"],
      ["SieveScript/changes", { accountId: jo.accountId, sinceState: "0", maxChanges: 0 }, "maxChangesZero"],
      ["SieveScript/changes", { accountId: jo.accountId }, "noSinceState"],
    ], ALL);
    for (const [name, args, id] of calls) expect([id, name, args.type]).toEqual([id, "error", "invalidArguments"]);
  });

  test("another account's scripts are not found", async () => {
    const blob = await jo.upload("keep;\r\n");
    const [, set] = await call(jo, "SieveScript/set", { create: { a: { name: "mine", blobId: blob.blobId } } });
    const id = (set.created as Record<string, Args>).a!.id as string;
    const [, theirs] = await call(kim, "SieveScript/get", { ids: [id] });
    expect(theirs).toMatchObject({ list: [], notFound: [id] });
    const [, destroy] = await call(kim, "SieveScript/set", { destroy: [id] });
    expect((destroy.notDestroyed as Record<string, Args>)[id]).toMatchObject({ type: "notFound" });
    // Kim cannot create from Jo's upload either.
    const [, steal] = await call(kim, "SieveScript/set", { create: { s: { name: "x", blobId: blob.blobId } } });
    expect((steal.notCreated as Record<string, Args>).s).toMatchObject({ type: "blobNotFound" });
  });
});
