/**
 * Composing over JMAP (issue 17 bug 4): Email/set create honours bodyStructure, textBody /
 * htmlBody / attachments (uploads and parts of stored mail), header:* properties in their parsed
 * forms, and refuses what RFC 8621 §4.6 forbids with a SetError naming the property — storing
 * nothing then.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
let drafts: string;

const binary = new Uint8Array(1000).map((_, i) => (i * 7) % 256);

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  drafts = (await jo.roles()).drafts!;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

interface Part {
  partId: string | null;
  blobId: string;
  type: string;
  name: string | null;
  disposition: string | null;
  cid: string | null;
}
interface Got {
  id: string;
  blobId: string;
  subject: string;
  hasAttachment: boolean;
  textBody: Part[];
  htmlBody: Part[];
  attachments: Part[];
  bodyValues: Record<string, { value: string }>;
}

async function create(spec: Record<string, unknown>) {
  const set = (await jo.call("Email/set", { create: { e: { mailboxIds: { [drafts]: true }, ...spec } } })) as {
    created?: Record<string, { id: string; blobId: string }>;
    notCreated?: Record<string, { type: string; properties?: string[]; notFound?: string[] }>;
  };
  return { created: set.created?.e, error: set.notCreated?.e };
}

async function get(id: string): Promise<Got> {
  const got = (await jo.call("Email/get", {
    ids: [id],
    properties: ["blobId", "subject", "hasAttachment", "textBody", "htmlBody", "attachments", "bodyValues"],
    fetchAllBodyValues: true,
  })) as { list: Got[] };
  return got.list[0]!;
}

const bytesOf = async (blobId: string) => new Uint8Array(await (await jo.download(blobId)).arrayBuffer());
const rawOf = async (blobId: string) => new TextDecoder().decode(await bytesOf(blobId));

describe(`JMAP compose on ${runtime()}`, () => {
  test("textBody + htmlBody + attachments from an upload and from a stored message's part", async () => {
    const upload = await jo.upload(binary, "application/octet-stream");
    // A stored message with an attachment, whose part blobId is attached again (forwarding).
    const first = await create({
      subject: "holds a part",
      textBody: [{ partId: "t" }],
      attachments: [{
        blobId: upload.blobId,
        type: "application/x-thing",
        name: "thing.bin",
        disposition: "attachment",
      }],
      bodyValues: { t: { value: "see attached" } },
    });
    expect(first.error).toBeUndefined();
    const stored = await get(first.created!.id);
    const storedPart = stored.attachments[0]!;
    expect(await bytesOf(storedPart.blobId)).toEqual(binary);

    const { created, error } = await create({
      from: [{ name: "Jo", email: "jo@example.test" }],
      to: [{ name: "Kim", email: "kim@example.test" }],
      subject: "Grüße with everything",
      textBody: [{ partId: "t", type: "text/plain" }],
      htmlBody: [{ partId: "h", type: "text/html" }],
      attachments: [
        { blobId: storedPart.blobId, type: "application/pdf", name: "Bericht für Kim.pdf", disposition: "attachment" },
        { blobId: upload.blobId, type: "image/png", cid: "logo@jo", disposition: "inline" },
      ],
      bodyValues: {
        t: { value: "Dear Kim,\nnon-ASCII: ü€ and a long line " + "x".repeat(200) },
        h: { value: '<p>Dear Kim,</p><img src="cid:logo@jo">' },
      },
    });
    expect(error).toBeUndefined();
    const email = await get(created!.id);
    expect(email.subject).toBe("Grüße with everything");
    expect(email.hasAttachment).toBe(true);
    expect(email.bodyValues[email.textBody[0]!.partId!]!.value).toBe(
      "Dear Kim,\r\nnon-ASCII: ü€ and a long line " + "x".repeat(200) + "\r\n",
    );
    expect(email.bodyValues[email.htmlBody[0]!.partId!]!.value).toBe('<p>Dear Kim,</p><img src="cid:logo@jo">\r\n');
    const pdf = email.attachments.find((a) => a.type === "application/pdf")!;
    expect(pdf).toMatchObject({ name: "Bericht für Kim.pdf", disposition: "attachment" });
    expect(await bytesOf(pdf.blobId)).toEqual(binary);
    const logo = [...email.attachments, ...email.htmlBody].find((a) => a.cid === "logo@jo")!;
    expect(await bytesOf(logo.blobId)).toEqual(binary);
    const raw = await rawOf(email.blobId);
    expect(raw).toMatch(/Content-Type: multipart\/mixed/);
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(raw).toMatch(/Content-Type: multipart\/related/);
    // 7-bit clean on the wire: quoted-printable text, base64 binaries, no line over 998.
    expect(raw.split("\r\n").every((l) => l.length <= 998 && /^[\x00-\x7f]*$/.test(l))).toBe(true);
  });

  test("bodyStructure is written as given, leaves from bodyValues and blobs", async () => {
    const upload = await jo.upload("name,value\r\na,1\r\n", "text/csv");
    const { created, error } = await create({
      subject: "structured",
      bodyStructure: {
        type: "multipart/mixed",
        subParts: [
          { partId: "body", type: "text/plain", language: ["en"] },
          { blobId: upload.blobId, type: "text/csv", charset: "us-ascii", name: "data.csv", disposition: "attachment" },
          { partId: "note", type: "text/plain", disposition: "attachment", name: "note.txt", "header:X-Part": " one" },
        ],
      },
      bodyValues: { body: { value: "the body" }, note: { value: "a note" } },
    });
    expect(error).toBeUndefined();
    const email = await get(created!.id);
    expect(email.textBody.map((p) => email.bodyValues[p.partId!]!.value)).toEqual(["the body\r\n"]);
    expect(email.attachments.map((a) => [a.name, a.type])).toEqual([["data.csv", "text/csv"], [
      "note.txt",
      "text/plain",
    ]]);
    expect(await (await jo.download(email.attachments[0]!.blobId)).text()).toBe("name,value\r\na,1\r\n");
    const raw = await rawOf(email.blobId);
    expect(raw).toContain("Content-Language: en");
    expect(raw).toContain("X-Part: one");
    expect(raw).toContain("Content-Type: text/csv; charset=us-ascii; name=data.csv");
  });

  test("header:* properties in every parsed form, and sentAt keeps its zone", async () => {
    const { created, error } = await create({
      subject: "headers",
      sentAt: "2026-03-04T05:06:07+02:00",
      messageId: ["custom.1@example.test"],
      references: ["a@remote.test", "b@remote.test"],
      "header:X-Raw": " kept as it is",
      "header:X-Text:asText": "Grüße",
      "header:Resent-To:asAddresses": [{ name: "Kim", email: "kim@example.test" }],
      "header:X-Group:asGroupedAddresses": [{ name: "Team", addresses: [{ email: "a@example.test" }] }],
      "header:List-Unsubscribe:asURLs": ["mailto:leave@example.test", "https://example.test/leave"],
      "header:X-Seen:asDate": "2026-01-01T00:00:00Z",
      "header:X-Many:all": [" first", " second"],
      textBody: [{ partId: "t" }],
      bodyValues: { t: { value: "h" } },
    });
    expect(error).toBeUndefined();
    const raw = await rawOf(created!.blobId);
    const header = raw.slice(0, raw.indexOf("\r\n\r\n")).split("\r\n");
    expect(header).toContain("X-Raw: kept as it is");
    expect(header).toContain(`X-Text: =?UTF-8?B?${Buffer.from("Grüße").toString("base64")}?=`);
    expect(header).toContain('Resent-To: "Kim" <kim@example.test>');
    expect(header).toContain('X-Group: "Team": <a@example.test>;');
    expect(header).toContain("List-Unsubscribe: <mailto:leave@example.test>, <https://example.test/leave>");
    expect(header).toContain("X-Seen: Thu, 1 Jan 2026 00:00:00 +0000");
    expect(header).toContain("Date: Wed, 4 Mar 2026 05:06:07 +0200");
    expect(header).toContain("Message-ID: <custom.1@example.test>");
    expect(header.filter((l) => l.startsWith("X-Many:"))).toEqual(["X-Many: first", "X-Many: second"]);
    const got = (await jo.call("Email/get", { ids: [created!.id], properties: ["sentAt", "messageId", "references"] }))
      .list as Array<Record<string, unknown>>;
    expect(got[0]).toMatchObject({
      sentAt: "2026-03-04T05:06:07+02:00",
      messageId: ["custom.1@example.test"],
      references: ["a@remote.test", "b@remote.test"],
    });
  });

  test("what RFC 8621 §4.6 forbids is invalidProperties naming the property, and nothing is stored", async () => {
    const before = ((await jo.call("Email/query", {})) as { ids: string[] }).ids.length;
    const text = { textBody: [{ partId: "t" }], bodyValues: { t: { value: "x" } } };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...text, bodyStructure: { partId: "t" } }, "textBody"],
      [{ textBody: [{ partId: "t" }, { partId: "t" }], bodyValues: { t: { value: "x" } } }, "textBody"],
      [{ textBody: [{ partId: "t", type: "text/html" }], bodyValues: { t: { value: "x" } } }, "textBody"],
      [{ ...text, from: [{ email: "jo@example.test" }], "header:From:asAddresses": [{ email: "x@example.test" }] }, ""],
      [{ ...text, "header:Content-Type": " text/html" }, "header:Content-Type"],
      [{ ...text, "header:Subject:asAddresses": [{ email: "a@example.test" }] }, "header:Subject:asAddresses"],
      [{ ...text, "header:X-Raw": " a\r\nInjected: 1" }, "header:X-Raw"],
      [{ ...text, id: "M1" }, "id"],
      [{ ...text, size: 10 }, "size"],
      [{ ...text, headers: [] }, "headers"],
      [{ ...text, nonsense: true }, "nonsense"],
      [{ ...text, sentAt: "yesterday" }, "sentAt"],
      [{ ...text, keywords: { $seen: false } }, "keywords"],
      [{ textBody: [{ partId: "missing" }], bodyValues: {} }, "textBody/0/partId"],
      [{ textBody: [{ partId: "t" }], bodyValues: { t: { value: "x", isTruncated: true } } }, "bodyValues/t"],
      [{
        bodyStructure: { partId: "t", "header:Content-Transfer-Encoding": " base64" },
        bodyValues: { t: { value: "x" } },
      }, "bodyStructure/header:Content-Transfer-Encoding"],
      [{ bodyStructure: { partId: "t", blobId: "Bx" }, bodyValues: { t: { value: "x" } } }, "bodyStructure/partId"],
      [
        { bodyStructure: { partId: "t", charset: "latin1" }, bodyValues: { t: { value: "x" } } },
        "bodyStructure/charset",
      ],
      [{ bodyStructure: { type: "multipart/mixed" } }, "bodyStructure/subParts"],
    ];
    for (const [spec, property] of cases) {
      const { created, error } = await create(spec);
      expect({ spec, created }).toEqual({ spec, created: undefined });
      expect({ spec, type: error?.type }).toEqual({ spec, type: "invalidProperties" });
      if (property) expect({ spec, properties: error?.properties }).toEqual({ spec, properties: [property] });
    }
    expect(((await jo.call("Email/query", {})) as { ids: string[] }).ids.length).toBe(before);
  });

  test("mail created or imported over JMAP is threaded by In-Reply-To / References (issue 17 item 6)", async () => {
    const text = { textBody: [{ partId: "t" }], bodyValues: { t: { value: "x" } } };
    const root = await create({ ...text, subject: "thread root", messageId: ["root.6@example.test"] });
    const reply = await create({ ...text, subject: "Re: thread root", inReplyTo: ["root.6@example.test"] });
    const { blobId } = await jo.upload(
      "From: kim@example.test\r\nSubject: Re: thread root\r\nMessage-ID: <third.6@example.test>\r\n" +
        "References: <root.6@example.test>\r\n\r\nthird\r\n",
      "message/rfc822",
    );
    const imported = (await jo.call("Email/import", { emails: { i: { blobId, mailboxIds: { [drafts]: true } } } })) as {
      created: Record<string, { id: string; threadId: string }>;
    };
    const ids = [root.created!.id, reply.created!.id, imported.created.i!.id];
    const got = (await jo.call("Email/get", { ids, properties: ["threadId"] })) as {
      list: Array<{ threadId: string }>;
    };
    expect(new Set(got.list.map((e) => e.threadId)).size).toBe(1);
    const thread = (await jo.call("Thread/get", { ids: [got.list[0]!.threadId] })) as {
      list: Array<{ emailIds: string[] }>;
    };
    expect(thread.list[0]!.emailIds.sort()).toEqual([...ids].sort());
  });

  test("an unknown blob, or another account's, is blobNotFound with notFound", async () => {
    const theirs = await kim.upload("kim's secret", "text/plain");
    const unknown = `B${"0".repeat(64)}`;
    const { created, error } = await create({
      ...{ textBody: [{ partId: "t" }], bodyValues: { t: { value: "x" } } },
      attachments: [{ blobId: theirs.blobId, type: "text/plain" }, { blobId: unknown }],
    });
    expect(created).toBeUndefined();
    expect(error?.type).toBe("blobNotFound");
    expect(error?.notFound?.sort()).toEqual([theirs.blobId, unknown].sort());
  });
});
