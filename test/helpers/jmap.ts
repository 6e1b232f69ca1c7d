/**
 * Raw JMAP against a running `postern serve` (RFC 8620 §3): one account's session, calls with
 * their responses as the server sent them, uploads and downloads. For tests that must see the
 * exact wire shape (SetErrors, extra responses) rather than a client library's view of it.
 */
import type { MailServer } from "./mail-server.ts";

export type Invocation = [string, Record<string, unknown>, string];

export interface JmapSession {
  base: string;
  accountId: string;
  authorization: string;
  downloadUrl: string;
  /** Every response of a request, in order. */
  request(calls: Invocation[], using?: string[]): Promise<Invocation[]>;
  /** One method call; its (first) response's arguments, or the error response's. */
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  upload(body: Uint8Array | string, type?: string): Promise<{ blobId: string; size: number; type: string }>;
  /** GET of the download URL template with these values filled in. */
  download(blobId: string, name?: string, type?: string): Promise<Response>;
  /** Mailbox ids by role ("inbox", "drafts", "sent", …). */
  roles(): Promise<Record<string, string>>;
}

export const USING = [
  "urn:ietf:params:jmap:core",
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
];

export async function jmapSession(mail: MailServer, address: string, password: string): Promise<JmapSession> {
  const base = `http://127.0.0.1:${mail.server.ports.http}`;
  const authorization = `Basic ${btoa(`${address}:${password}`)}`;
  const session = (await (await fetch(`${base}/jmap/session`, { headers: { authorization } })).json()) as {
    primaryAccounts: Record<string, string>;
    downloadUrl: string;
  };
  const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
  const request = async (calls: Invocation[], using = USING) => {
    const res = await fetch(`${base}/jmap/api`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ using, methodCalls: calls }),
    });
    if (res.status !== 200) throw new Error(`JMAP request answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { methodResponses: Invocation[] }).methodResponses;
  };
  const call = async (method: string, args: Record<string, unknown>) =>
    (await request([[method, { accountId, ...args }, "c"]]))[0]![1];
  return {
    base,
    accountId,
    authorization,
    downloadUrl: session.downloadUrl,
    request,
    call,
    async upload(body, type = "application/octet-stream") {
      const res = await fetch(`${base}/jmap/upload/${accountId}`, {
        method: "POST",
        headers: { authorization, "content-type": type },
        body: typeof body === "string" ? body : body as Uint8Array<ArrayBuffer>,
      });
      if (res.status !== 201) throw new Error(`Upload answered ${res.status}`);
      return (await res.json()) as { blobId: string; size: number; type: string };
    },
    download(blobId, name = "file", type = "application/octet-stream") {
      const url = session.downloadUrl
        .replace("{accountId}", encodeURIComponent(accountId))
        .replace("{blobId}", encodeURIComponent(blobId))
        .replace("{name}", encodeURIComponent(name))
        .replace("{type}", encodeURIComponent(type));
      return fetch(url, { headers: { authorization } });
    },
    async roles() {
      const got = (await call("Mailbox/get", {})) as { list: Array<{ id: string; role: string | null }> };
      return Object.fromEntries(got.list.filter((m) => m.role).map((m) => [m.role!, m.id]));
    },
  };
}
