/**
 * The REST admin API (/api/v1) and the console's own routes from the admin console, signed in one of two ways:
 * - the admin token, sent in `Authorization: Bearer` and kept in this tab's sessionStorage only, so no cookie carries
 *   it and no other site can make the browser send it;
 * - an account marked admin, signed in with its address and password: a session cookie (HttpOnly, SameSite=Strict)
 *   and the CSRF token every change echoes, as in the webmail.
 */
const KEY = "postern-admin-token";
const JSON_TYPE = { "content-type": "application/json" };

type Credential = { token: string } | { csrf: string; address: string };

export class AdminApi {
  private constructor(private readonly credential: Credential) {}

  /** Who is signed in: the account's address, or null for the admin token. */
  get address(): string | null {
    return "address" in this.credential ? this.credential.address : null;
  }

  /** This tab's admin token, or else a live sign-in of this browser; null when neither. */
  static async saved(): Promise<AdminApi | null> {
    const token = sessionStorage.getItem(KEY);
    if (token) return new AdminApi({ token });
    const response = await fetch("/admin/session");
    return response.ok ? new AdminApi(await response.json()) : null;
  }

  /** Checks the token against the server, and keeps it for this tab if it works. */
  static async withToken(token: string): Promise<AdminApi | string> {
    const api = new AdminApi({ token });
    const response = await fetch("/api/v1/domains", { headers: api.#headers() });
    if (!response.ok) return response.status === 401 ? "The admin token is not valid" : `Error ${response.status}`;
    sessionStorage.setItem(KEY, token);
    return api;
  }

  /** Signs an account marked admin in with its address and password. */
  static async withPassword(username: string, password: string): Promise<AdminApi | string> {
    const response = await fetch("/admin/session", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ username, password }),
    });
    if (response.ok) return new AdminApi(await response.json());
    const problem = await response.json().catch(() => ({})) as { detail?: string };
    return problem.detail ?? `Error ${response.status}`;
  }

  async signOut(): Promise<void> {
    if ("token" in this.credential) sessionStorage.removeItem(KEY);
    else await fetch("/admin/session", { method: "DELETE", headers: this.#headers() }).catch(() => {});
  }

  #headers(): Record<string, string> {
    return "token" in this.credential
      ? { authorization: `Bearer ${this.credential.token}`, ...JSON_TYPE }
      : { "x-postern-csrf": this.credential.csrf, ...JSON_TYPE };
  }

  /** The records `postern dns <domain>` prints, from the server's config and the domain's DKIM key. */
  dnsRecords(domain: string): Promise<{ records: Array<{ purpose: string; line: string; kind: string }> }> {
    return this.request("GET", `/admin/dns/${encodeURIComponent(domain)}`);
  }

  /** A REST call: `path` under /api/v1, or an absolute path of the console's own. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path.startsWith("/admin/") ? path : `/api/v1${path}`, {
      method,
      headers: this.#headers(),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({})) as {
        detail?: string;
        title?: string;
        errors?: Array<{ path: string; message: string }>;
      };
      const detail = problem.errors?.map((e) => `${e.path}: ${e.message}`).join("; ") || problem.detail;
      throw new Error(detail ?? problem.title ?? `Error ${response.status}`);
    }
    // Some answers (204, a retry's 202) have no body.
    const text = await response.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}
