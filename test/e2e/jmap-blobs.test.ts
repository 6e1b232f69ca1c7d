/**
 * JMAP blob download (RFC 8620 §6.2, issue 17 bug 1): every body-part blobId Email/get hands out
 * and every uploaded blob downloads with its bytes — a part's content with its transfer encoding
 * undone — under the `type` and `name` the download URL asks for; another account gets 404.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;

/** Every byte value, twice: base64 must come back byte-identical. */
const binary = new Uint8Array(512).map((_, i) => i % 256);
const pdfName = "Quarterly report – €.pdf";

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  await nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      from: "zed@remote.test",
      to: "jo@example.test",
      subject: "with attachments",
      text: "Grüße, see attached: ünïcödé text that is quoted-printable\n",
      attachments: [
        { filename: pdfName, content: Buffer.from(binary), contentType: "application/pdf" },
        { filename: "notes.txt", content: "plain notes\r\n", contentType: "text/plain" },
      ],
    });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

interface Part {
  partId: string;
  blobId: string;
  type: string;
  name: string | null;
  size: number;
}

async function theEmail() {
  const query = (await jo.call("Email/query", { filter: { subject: "with attachments" } })) as { ids: string[] };
  const got = (await jo.call("Email/get", {
    ids: query.ids,
    properties: ["blobId", "textBody", "attachments", "bodyValues"],
    fetchTextBodyValues: true,
  })) as {
    list: Array<{
      blobId: string;
      textBody: Part[];
      attachments: Part[];
      bodyValues: Record<string, { value: string }>;
    }>;
  };
  return got.list[0]!;
}

describe(`JMAP blob download on ${runtime()}`, () => {
  test("an attachment's part blobId downloads its decoded bytes with the type and name asked for", async () => {
    const email = await theEmail();
    const pdf = email.attachments.find((a) => a.type === "application/pdf")!;
    expect(pdf.name).toBe(pdfName);
    const res = await jo.download(pdf.blobId, pdf.name!, pdf.type);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(binary);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    // RFC 6266: the name as filename*, UTF-8 percent-encoded; attachment, since a PDF is not inlined.
    const disposition = res.headers.get("content-disposition")!;
    expect(disposition).toStartWith("attachment;");
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(pdfName)}`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  test("a text part downloads decoded (quoted-printable undone), in the type the URL names", async () => {
    const email = await theEmail();
    const text = email.textBody[0]!;
    const res = await jo.download(text.blobId, "body.txt", "text/plain;charset=utf-8");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain;charset=utf-8");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes)).toBe(email.bodyValues[text.partId]!.value);
    const notes = email.attachments.find((a) => a.name === "notes.txt")!;
    expect(await (await jo.download(notes.blobId, "notes.txt", "text/plain")).text()).toBe("plain notes\r\n");
  });

  test("the whole message still downloads by its blobId", async () => {
    const email = await theEmail();
    const res = await jo.download(email.blobId, "message.eml", "message/rfc822");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Subject: with attachments");
  });

  test("an uploaded blob downloads with the same bytes, before any email uses it", async () => {
    const uploaded = await jo.upload(binary, "image/png");
    expect(uploaded.size).toBe(binary.length);
    const res = await jo.download(uploaded.blobId, "picture.png", "image/png");
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(binary);
    expect(res.headers.get("content-type")).toBe("image/png");
    // An image is safe to show inline.
    expect(res.headers.get("content-disposition")).toStartWith("inline;");
  });

  test("another account's blobs, unknown parts and malformed ids are 404", async () => {
    const email = await theEmail();
    const pdf = email.attachments.find((a) => a.type === "application/pdf")!;
    const uploaded = await jo.upload("only for jo", "text/plain");
    for (const blobId of [pdf.blobId, email.blobId, uploaded.blobId]) {
      expect((await kim.download(blobId)).status).toBe(404);
    }
    for (const blobId of [`${email.blobId}.9`, `${email.blobId}.1.x`, `${email.blobId}.`, "B123", "nope"]) {
      expect((await jo.download(blobId)).status).toBe(404);
    }
  });

  test("a type the URL gives that is not a media type is not echoed", async () => {
    const email = await theEmail();
    const res = await jo.download(email.blobId, "m.eml", "text/html\r\nx-evil: 1");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-evil")).toBeNull();
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
  });
});
