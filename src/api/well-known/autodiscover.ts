/**
 * Outlook autodiscover, the plain-old-XML protocol ([MS-OXDSCLI]): the client POSTs
 * `<Autodiscover><Request><EMailAddress>…` to `https://autodiscover.<domain>/autodiscover/autodiscover.xml`
 * and gets an `<Account>` of `<Protocol>` elements (IMAP, POP3, SMTP) back, or an `<Error>`.
 */
import type { Context, Hono } from "hono";
import { readBody } from "../client.ts";
import { type ClientServer, escapeXml, requestedAddress } from "./client-servers.ts";
import type { WellKnownContext } from "./index.ts";

const RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/** A request is a few hundred bytes; anything much larger is not one. */
const MAX_REQUEST = 64 * 1024;

const TYPE: Record<ClientServer["protocol"], string> = { imap: "IMAP", pop3: "POP3", smtp: "SMTP" };

export function outlookSettings(address: string, hostname: string, servers: readonly ClientServer[]): string {
  const protocol = (s: ClientServer) =>
    [
      "      <Protocol>",
      `        <Type>${TYPE[s.protocol]}</Type>`,
      `        <Server>${escapeXml(hostname)}</Server>`,
      `        <Port>${s.port}</Port>`,
      `        <LoginName>${escapeXml(address)}</LoginName>`,
      "        <DomainRequired>off</DomainRequired>",
      "        <SPA>off</SPA>",
      // [MS-OXDSCLI] §2.2.4.1.1.2.14: Encryption (SSL or TLS = STARTTLS) supersedes SSL when both are present.
      "        <SSL>on</SSL>",
      `        <Encryption>${s.tls === "implicit" ? "SSL" : "TLS"}</Encryption>`,
      "        <AuthRequired>on</AuthRequired>",
      ...(s.protocol === "smtp" ? ["        <UsePOPAuth>on</UsePOPAuth>"] : []),
      "      </Protocol>",
    ].join("\n");
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${RESPONSE_NS}">`,
    `  <Response xmlns="${OUTLOOK_NS}">`,
    "    <Account>",
    "      <AccountType>email</AccountType>",
    "      <Action>settings</Action>",
    ...servers.map(protocol),
    "    </Account>",
    "  </Response>",
    "</Autodiscover>",
    "",
  ].join("\n");
}

/** [MS-OXDSCLI] §2.2.4.2: error 600 is "Invalid Request"; 603 is the server's own failure. */
export function autodiscoverError(code: 600 | 603, message: string): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${RESPONSE_NS}">`,
    "  <Response>",
    `    <Error Time="${new Date().toISOString().slice(11, 19)}" Id="0">`,
    `      <ErrorCode>${code}</ErrorCode>`,
    `      <Message>${escapeXml(message)}</Message>`,
    "      <DebugData />",
    "    </Error>",
    "  </Response>",
    "</Autodiscover>",
    "",
  ].join("\n");
}

export function mountAutodiscover(app: Hono, context: WellKnownContext): void {
  const handler = async (c: Context) => {
    const xml = (text: string) => c.body(text, 200, { "content-type": "text/xml; charset=utf-8" });
    const body = await readBody(c, MAX_REQUEST);
    if (body === "too-large") return xml(autodiscoverError(600, "Invalid Request"));
    const text = new TextDecoder().decode(body);
    const asked = /<(?:\w+:)?EMailAddress>([^<]*)<\/(?:\w+:)?EMailAddress>/.exec(text)?.[1];
    const address = requestedAddress(asked);
    if (!address || !(await context.serves(address.domain))) return xml(autodiscoverError(600, "Invalid Request"));
    return xml(outlookSettings(address.address, context.hostname, context.servers()));
  };
  app.post("/autodiscover/autodiscover.xml", handler);
  app.post("/Autodiscover/Autodiscover.xml", handler);
}
