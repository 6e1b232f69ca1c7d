/**
 * Email/get in full (issue 17 item 9 and item 10's maxBodyValueBytes): bodyStructure,
 * bodyProperties, header:* in every parsed form and :all, part sizes after the transfer encoding
 * is undone, body values cut at maxBodyValueBytes UTF-8 octets on a character boundary; and
 * Email/parse of an attached message (RFC 8621 §4.9).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
let id: string;
let blobId: string;

const attachment = new Uint8Array(1000).map((_, i) => (i * 7) % 256);
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/.{76}/g, "$&\r\n");

const INNER = [
  "From: Ann <ann@remote.test>",
  "To: jo@example.test",
  "Subject: the inner one",
  "Message-ID: <inner@remote.test>",
  "",
  "inner text",
  "",
].join("\r\n");

const MESSAGE = [
  "Received: from a.remote.test by b.remote.test; Mon, 2 Feb 2026 10:00:00 +0000",
  "Received: from c.remote.test by a.remote.test; Mon, 2 Feb 2026 09:59:00 +0000",
  "From: =?utf-8?q?Z=C3=A9d?= <zed@remote.test>",
  "To: friends: kim@example.test, Lou <lou@example.test>;, jo@example.test",
  "Subject: =?utf-8?q?caf=C3=A9?= news",
  "Date: Mon, 2 Feb 2026 11:00:00 +0100",
  "Message-ID: <outer@remote.test>",
  "List-Unsubscribe: <mailto:leave@remote.test>,",
  " <https://remote.test/leave>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "Content-Language: fr",
  "",
  "=E2=82=AC=E2=82=AC=E2=82=AC=E2=82=AC",
  "--b1",
  'Content-Type: application/octet-stream; name="data.bin"',
  "Content-Disposition: attachment; filename=data.bin",
  "Content-Transfer-Encoding: base64",
  "",
  base64(attachment),
  "--b1",
  "Content-Type: message/rfc822",
  "Content-Disposition: attachment",
  "",
  INNER,
  "--b1--",
  "",
].join("\r\n");

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  const inbox = (await jo.roles()).inbox!;
  const upload = await jo.upload(MESSAGE, "message/rfc822");
  const imported = (await jo.call("Email/import", {
    emails: { m: { blobId: upload.blobId, mailboxIds: { [inbox]: true } } },
  })) as { created: Record<string, { id: string; blobId: string }> };
  id = imported.created.m!.id;
  blobId = imported.created.m!.blobId;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

type Part = Record<string, unknown> & { subParts?: Part[] };

const getOne = async (args: Record<string, unknown>) =>
  ((await jo.call("Email/get", { ids: [id], ...args })) as { list: Array<Record<string, unknown>> }).list[0]!;

describe(`JMAP Email/get on ${runtime()}`, () => {
  test("bodyStructure with decoded sizes, and bodyProperties", async () => {
    const email = await getOne({ properties: ["bodyStructure", "attachments"] });
    const root = email.bodyStructure as Part;
    expect(root).toMatchObject({ partId: null, blobId: null, type: "multipart/mixed" });
    expect(root.subParts!.map((p) => [p.partId, p.type])).toEqual([
      ["1", "text/plain"],
      ["2", "application/octet-stream"],
      ["3", "message/rfc822"],
    ]);
    const [text, data] = root.subParts!;
    // Sizes count the content after the transfer encoding is undone (RFC 8621 §4.1.4).
    expect(text).toMatchObject({ size: 12, charset: "utf-8", language: ["fr"], disposition: null });
    expect(data).toMatchObject({ size: 1000, name: "data.bin", disposition: "attachment", blobId: `${blobId}.2` });
    expect((email.attachments as Part[]).map((p) => p.size)).toEqual([1000, INNER.length]);

    const narrow = await getOne({
      properties: ["textBody"],
      bodyProperties: ["partId", "header:Content-Type:asRaw", "headers"],
    });
    const [part] = narrow.textBody as Part[];
    expect(Object.keys(part!).sort()).toEqual(["header:Content-Type:asRaw", "headers", "partId"]);
    expect(part!["header:Content-Type:asRaw"]).toBe(" text/plain; charset=utf-8");
    expect((part!.headers as Array<{ name: string }>).map((h) => h.name)).toEqual([
      "Content-Type",
      "Content-Transfer-Encoding",
      "Content-Language",
    ]);
  });

  test("header:* in every parsed form, last instance or :all", async () => {
    const email = await getOne({
      properties: [
        "header:Subject",
        "header:Subject:asText",
        "header:From:asAddresses",
        "header:To:asGroupedAddresses",
        "header:To:asAddresses",
        "header:Message-ID:asMessageIds",
        "header:Date:asDate",
        "header:List-Unsubscribe:asURLs",
        "header:Received:all",
        "header:Received",
        "header:X-Missing",
        "header:X-Missing:all",
      ],
    });
    expect(email["header:Subject"]).toBe(" =?utf-8?q?caf=C3=A9?= news");
    expect(email["header:Subject:asText"]).toBe("café news");
    expect(email["header:From:asAddresses"]).toEqual([{ name: "Zéd", email: "zed@remote.test" }]);
    expect(email["header:To:asGroupedAddresses"]).toEqual([
      {
        name: "friends",
        addresses: [{ name: null, email: "kim@example.test" }, { name: "Lou", email: "lou@example.test" }],
      },
      { name: null, addresses: [{ name: null, email: "jo@example.test" }] },
    ]);
    expect((email["header:To:asAddresses"] as unknown[]).length).toBe(3);
    expect(email["header:Message-ID:asMessageIds"]).toEqual(["outer@remote.test"]);
    // A Date (RFC 8620 §1.4) in the zone the field was written in.
    expect(email["header:Date:asDate"]).toBe("2026-02-02T11:00:00+01:00");
    expect(email["header:List-Unsubscribe:asURLs"]).toEqual(["mailto:leave@remote.test", "https://remote.test/leave"]);
    expect((email["header:Received:all"] as string[]).length).toBe(2);
    // Without :all, the last instance (RFC 8621 §4.1.3).
    expect(email["header:Received"]).toContain("from c.remote.test");
    expect(email["header:X-Missing"]).toBeNull();
    expect(email["header:X-Missing:all"]).toEqual([]);
    expect(email.id).toBe(id);
  });

  test("sentAt keeps the offset the sender wrote (RFC 8621 §4.1.4: a Date, not a UTCDate)", async () => {
    const cases: Array<[string, string | null]> = [
      ["Mon, 2 Feb 2026 11:00:00 +0100", "2026-02-02T11:00:00+01:00"],
      ["Tue, 3 Feb 2026 23:30:05 +0530", "2026-02-03T23:30:05+05:30"],
      ["3 Feb 2026 08:00 EST", "2026-02-03T08:00:00-05:00"],
      ["Wed, 4 Feb 2026 12:00:00 -0930", "2026-02-04T12:00:00-09:30"],
      ["Wed, 4 Feb 2026 12:00:00 +0000", "2026-02-04T12:00:00Z"],
      // RFC 5322 §3.3: -0000 is UTC with the zone unknown.
      ["Wed, 4 Feb 2026 12:00:00 -0000", "2026-02-04T12:00:00Z"],
      ["not a date", null],
    ];
    const inbox = (await jo.roles()).inbox!;
    for (const [date, expected] of cases) {
      const upload = await jo.upload(`Date: ${date}\r\nSubject: dated\r\n\r\nx\r\n`, "message/rfc822");
      const imported = (await jo.call("Email/import", {
        emails: { m: { blobId: upload.blobId, mailboxIds: { [inbox]: true } } },
      })) as { created: Record<string, { id: string }> };
      const got = (await jo.call("Email/get", {
        ids: [imported.created.m!.id],
        properties: ["sentAt", "header:Date:asDate"],
      })) as { list: Array<Record<string, unknown>> };
      expect([date, got.list[0]!.sentAt, got.list[0]!["header:Date:asDate"]]).toEqual([date, expected, expected]);
    }
  });

  test("an unknown property or a form a field cannot take is invalidArguments", async () => {
    for (const properties of [["nonsense"], ["header:Subject:asAddresses"], ["header:From:asWhatever"]]) {
      const response = await jo.call("Email/get", { ids: [id], properties });
      expect(response).toMatchObject({ type: "invalidArguments" });
    }
    const bad = await jo.call("Email/get", { ids: [id], bodyProperties: ["nope"] });
    expect(bad).toMatchObject({ type: "invalidArguments" });
  });

  test("maxBodyValueBytes counts UTF-8 octets and cuts on a character boundary", async () => {
    const values = async (maxBodyValueBytes: number) =>
      (await getOne({ properties: ["bodyValues"], fetchTextBodyValues: true, maxBodyValueBytes }))
        .bodyValues as Record<string, { value: string; isTruncated: boolean; isEncodingProblem: boolean }>;
    // Four € of three octets each: 7 octets hold two whole characters, not seven.
    expect((await values(7))["1"]).toEqual({ value: "€€", isTruncated: true, isEncodingProblem: false });
    expect((await values(12))["1"]).toEqual({ value: "€€€€", isTruncated: false, isEncodingProblem: false });
    expect((await values(0))["1"]!.value).toBe("€€€€");
    const html = await getOne({ properties: ["bodyValues"], fetchHTMLBodyValues: true });
    expect(Object.keys(html.bodyValues as object)).toEqual(["1"]);
    const none = await getOne({ properties: ["bodyValues"] });
    expect(none.bodyValues).toEqual({});
  });

  test("Email/parse reads an attached message; its parts download", async () => {
    const attached = `${blobId}.3`;
    const parsed = (await jo.call("Email/parse", {
      blobIds: [attached],
      fetchTextBodyValues: true,
    })) as { parsed: Record<string, Record<string, unknown>>; notFound: unknown; notParsable: unknown };
    const email = parsed.parsed[attached]!;
    expect(email).toMatchObject({
      subject: "the inner one",
      from: [{ name: "Ann", email: "ann@remote.test" }],
      messageId: ["inner@remote.test"],
    });
    expect("id" in email).toBe(false);
    const [text] = email.textBody as Part[];
    expect((email.bodyValues as Record<string, { value: string }>)[text!.partId as string]!.value).toBe(
      "inner text\r\n",
    );
    const download = await jo.download(text!.blobId as string);
    expect(await download.text()).toBe("inner text\r\n");
    expect(parsed.notFound).toBeNull();
    expect(parsed.notParsable).toBeNull();
  });

  test("Email/parse: notFound for unknown and other accounts' blobs, notParsable for what is no message", async () => {
    const binary = await jo.upload(new Uint8Array([0x0d, 0x0a, 1, 2, 3]));
    const unknown = `B${"0".repeat(64)}`;
    const response = (await jo.call("Email/parse", { blobIds: [binary.blobId, unknown] })) as Record<
      string,
      unknown
    >;
    expect(response).toMatchObject({ parsed: null, notParsable: [binary.blobId], notFound: [unknown] });
    const theirs = await kim.call("Email/parse", { blobIds: [blobId, `${blobId}.3`] });
    expect(theirs).toMatchObject({ parsed: null, notFound: [blobId, `${blobId}.3`] });
    expect(await jo.call("Email/parse", { blobIds: "x" })).toMatchObject({ type: "invalidArguments" });
  });
});
