/**
 * A small JMAP client for the webmail (RFC 8620, RFC 8621) over fetch: the session cookie authenticates, and every
 * POST carries the CSRF token the sign-in gave (src/api/web/session.ts).
 */
export const CSRF_HEADER = "x-postern-csrf";

export type Invocation = [string, Record<string, unknown>, string];

export interface SignedIn {
  address: string;
  csrf: string;
}

const USING = [
  "urn:ietf:params:jmap:core",
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
  "urn:ietf:params:jmap:vacationresponse",
  "urn:ietf:params:jmap:sieve",
  "urn:postern:aliases",
];

export class JmapError extends Error {}

export class Jmap {
  constructor(
    readonly user: SignedIn,
    readonly accountId: string,
  ) {}

  static async open(user: SignedIn): Promise<Jmap> {
    const response = await fetch("/jmap/session", { credentials: "same-origin" });
    if (!response.ok) throw new JmapError(`The JMAP session could not be loaded (${response.status})`);
    const session = await response.json() as { primaryAccounts: Record<string, string> };
    return new Jmap(user, session.primaryAccounts["urn:ietf:params:jmap:mail"]!);
  }

  /** Sends method calls; `accountId` is filled in. A method error becomes a JmapError. */
  async request(calls: Invocation[]): Promise<Invocation[]> {
    const response = await fetch("/jmap/api", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", [CSRF_HEADER]: this.user.csrf },
      body: JSON.stringify({
        using: USING,
        methodCalls: calls.map(([name, args, id]) => [name, { accountId: this.accountId, ...args }, id]),
      }),
    });
    if (response.status === 401) throw new JmapError("signed-out");
    if (!response.ok) throw new JmapError(`JMAP request failed (${response.status})`);
    const { methodResponses } = await response.json() as { methodResponses: Invocation[] };
    for (const [name, args] of methodResponses) {
      if (name === "error") throw new JmapError(`${args.type}${args.description ? `: ${args.description}` : ""}`);
    }
    return methodResponses;
  }

  async call<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> {
    const [response] = await this.request([[name, args, "0"]]);
    return response![1] as T;
  }

  async upload(file: Blob): Promise<{ blobId: string; type: string; size: number }> {
    const response = await fetch(`/jmap/upload/${this.accountId}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": file.type || "application/octet-stream", [CSRF_HEADER]: this.user.csrf },
      body: file,
    });
    if (!response.ok) throw new JmapError(`The upload failed (${response.status})`);
    return response.json();
  }

  downloadUrl(blobId: string, name: string, type: string): string {
    const encoded = encodeURIComponent(name || "attachment");
    return `/jmap/download/${this.accountId}/${encodeURIComponent(blobId)}/${encoded}?type=${encodeURIComponent(type)}`;
  }

  /**
   * RFC 8620 §7.3: a StateChange for each committed change; `onChange` runs for each. No pings: the browser
   * reconnects by itself if the connection drops, and a ping timer on the server outlives a client that left.
   */
  watch(onChange: () => void): () => void {
    const source = new EventSource("/jmap/eventsource?types=*&closeafter=no&ping=0");
    source.addEventListener("state", () => onChange());
    return () => source.close();
  }
}

export async function currentUser(): Promise<SignedIn | null> {
  const response = await fetch("/mail/session", { credentials: "same-origin" });
  return response.ok ? response.json() : null;
}

export async function signIn(username: string, password: string): Promise<SignedIn | string> {
  const response = await fetch("/mail/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (response.ok) return response.json();
  const problem = await response.json().catch(() => ({})) as { detail?: string };
  return problem.detail ?? `Sign-in failed (${response.status})`;
}

export async function signOut(user: SignedIn): Promise<void> {
  await fetch("/mail/session", { method: "DELETE", credentials: "same-origin", headers: { [CSRF_HEADER]: user.csrf } });
}
