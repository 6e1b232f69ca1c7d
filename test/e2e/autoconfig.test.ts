/**
 * Client autoconfiguration over real HTTP (issue 20, item 8): Thunderbird's config-v1.1.xml, Outlook's
 * POX autodiscover and the Apple profile, each parsed by Python's own XML and plist parsers (not
 * ours) and checked against the listeners that are on, with their real ports.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";

const PYTHON = "/usr/bin/python3";
const havePython = existsSync(PYTHON);
if (!havePython) console.warn(`skipping autoconfig document checks: ${PYTHON} (Debian python3) is not installed`);

interface XmlElement {
  tag: string;
  attrib: Record<string, string>;
  text: string;
  children: XmlElement[];
}

/** Parses with Python's xml.etree (namespaced tags as `{ns}name`) or plistlib. */
async function parseWithPython(kind: "xml" | "plist", body: string): Promise<unknown> {
  const script = `
import sys, json, plistlib, xml.etree.ElementTree as ET
data = sys.stdin.buffer.read()
def conv(e):
    return {"tag": e.tag, "attrib": e.attrib, "text": (e.text or "").strip(), "children": [conv(c) for c in e]}
print(json.dumps(plistlib.loads(data) if sys.argv[1] == "plist" else conv(ET.fromstring(data))))`;
  const proc = Bun.spawn([PYTHON, "-c", script, kind], {
    stdin: new TextEncoder().encode(body),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`not well-formed ${kind}: ${err}\n${body}`);
  return JSON.parse(out);
}

const local = (tag: string) => tag.replace(/^\{[^}]*\}/, "");
const child = (e: XmlElement, name: string) => e.children.find((c) => local(c.tag) === name);
const text = (e: XmlElement, name: string) => child(e, name)?.text;

let server: ServerProcess;
let base: string;

beforeAll(async () => {
  // IMAP and POP3 without TLS are off: they must not be offered.
  server = await startServer({
    config: { hostname: "mail.example.test", listeners: { imap: false, pop3: false } },
    waitFor: ["http", "imaps", "pop3s", "submission", "submissions"],
  });
  expect((await server.cli(["domain", "add", "example.test"])).code).toBe(0);
  expect((await server.cli(["domain", "add", "forward.test", "--forward"])).code).toBe(0);
  base = `http://127.0.0.1:${server.ports.http}`;
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe(`client autoconfiguration on ${runtime()}`, () => {
  test.skipIf(!havePython)("Thunderbird: both URLs, by address or by autoconfig. host name", async () => {
    const byAddress = await fetch(`${base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann@example.test`);
    expect(byAddress.status).toBe(200);
    expect(byAddress.headers.get("content-type")).toStartWith("application/xml");
    const byHost = await fetch(`${base}/mail/config-v1.1.xml`, { headers: { host: "autoconfig.example.test" } });
    expect(byHost.status).toBe(200);
    const body = await byAddress.text();
    expect(await byHost.text()).toBe(body);

    const root = (await parseWithPython("xml", body)) as XmlElement;
    expect(root.tag).toBe("clientConfig");
    expect(root.attrib.version).toBe("1.1");
    const provider = child(root, "emailProvider")!;
    expect(provider.attrib.id).toBe("example.test");
    expect(text(provider, "domain")).toBe("example.test");
    const servers = provider.children
      .filter((c) => c.tag === "incomingServer" || c.tag === "outgoingServer")
      .map((s) => ({
        type: s.attrib.type,
        hostname: text(s, "hostname"),
        port: Number(text(s, "port")),
        socketType: text(s, "socketType"),
        username: text(s, "username"),
      }));
    const p = server.ports;
    expect(servers).toEqual([
      { type: "imap", hostname: "mail.example.test", port: p.imaps!, socketType: "SSL", username: "%EMAILADDRESS%" },
      { type: "pop3", hostname: "mail.example.test", port: p.pop3s!, socketType: "SSL", username: "%EMAILADDRESS%" },
      {
        type: "smtp",
        hostname: "mail.example.test",
        port: p.submissions!,
        socketType: "SSL",
        username: "%EMAILADDRESS%",
      },
      {
        type: "smtp",
        hostname: "mail.example.test",
        port: p.submission!,
        socketType: "STARTTLS",
        username: "%EMAILADDRESS%",
      },
    ]);
  });

  test("Thunderbird: a domain not served here, a forward-only one, or no domain at all is 404", async () => {
    for (const query of ["?emailaddress=x@elsewhere.test", "?emailaddress=x@forward.test", ""]) {
      const res = await fetch(`${base}/.well-known/autoconfig/mail/config-v1.1.xml${query}`);
      expect(res.status).toBe(404);
    }
  });

  test.skipIf(!havePython)("Outlook: POX autodiscover answers the settings for the address, or error 600", async () => {
    const request = (address: string) =>
      `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`;
    const res = await fetch(`${base}/autodiscover/autodiscover.xml`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: request("Ann@Example.test"),
    });
    expect(res.status).toBe(200);
    const root = (await parseWithPython("xml", await res.text())) as XmlElement;
    expect(root.tag).toBe("{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}Autodiscover");
    const response = child(root, "Response")!;
    expect(response.tag).toBe(
      "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}Response",
    );
    const account = child(response, "Account")!;
    expect(text(account, "AccountType")).toBe("email");
    expect(text(account, "Action")).toBe("settings");
    const protocols = account.children.filter((c) => local(c.tag) === "Protocol").map((s) => [
      text(s, "Type"),
      text(s, "Server"),
      Number(text(s, "Port")),
      text(s, "Encryption"),
      text(s, "LoginName"),
    ]);
    const p = server.ports;
    expect(protocols).toEqual([
      ["IMAP", "mail.example.test", p.imaps, "SSL", "ann@example.test"],
      ["POP3", "mail.example.test", p.pop3s, "SSL", "ann@example.test"],
      ["SMTP", "mail.example.test", p.submissions, "SSL", "ann@example.test"],
      ["SMTP", "mail.example.test", p.submission, "TLS", "ann@example.test"],
    ]);

    for (const body of [request("nobody@elsewhere.test"), "not xml at all"]) {
      const refused = await fetch(`${base}/Autodiscover/Autodiscover.xml`, { method: "POST", body });
      const error = (await parseWithPython("xml", await refused.text())) as XmlElement;
      expect(text(child(child(error, "Response")!, "Error")!, "ErrorCode")).toBe("600");
    }
  });

  test.skipIf(!havePython)("Apple: a configuration profile with one IMAP account over implicit TLS", async () => {
    const res = await fetch(`${base}/apple/mail.mobileconfig?email=ann@example.test`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-apple-aspen-config");
    const body = await res.text();
    const profile = (await parseWithPython("plist", body)) as Record<string, unknown>;
    expect(profile.PayloadType).toBe("Configuration");
    expect(profile.PayloadVersion).toBe(1);
    expect(profile.PayloadUUID).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-A[0-9A-F]{3}-[0-9A-F]{12}$/);
    const [account, ...more] = profile.PayloadContent as Array<Record<string, unknown>>;
    expect(more).toEqual([]);
    expect(account).toMatchObject({
      PayloadType: "com.apple.mail.managed",
      EmailAccountType: "EmailTypeIMAP",
      EmailAddress: "ann@example.test",
      IncomingMailServerHostName: "mail.example.test",
      IncomingMailServerPortNumber: server.ports.imaps,
      IncomingMailServerUseSSL: true,
      IncomingMailServerUsername: "ann@example.test",
      OutgoingMailServerHostName: "mail.example.test",
      OutgoingMailServerPortNumber: server.ports.submissions,
      OutgoingMailServerUseSSL: true,
      OutgoingPasswordSameAsIncomingPassword: true,
    });
    // The same profile again (same UUIDs), so installing it twice replaces rather than duplicates.
    expect(await (await fetch(`${base}/apple/mail.mobileconfig?email=ann@example.test`)).text()).toBe(body);
    expect((await fetch(`${base}/apple/mail.mobileconfig`)).status).toBe(400);
    expect((await fetch(`${base}/apple/mail.mobileconfig?email=ann@elsewhere.test`)).status).toBe(404);
  });
});
