/**
 * The REST admin API (/api/v1) from the admin console: the admin token goes in `Authorization: Bearer` and is kept
 * in this tab's sessionStorage only, so no cookie carries it and no other site can make the browser send it.
 */
const KEY = "postern-admin-token";

export class AdminApi {
  constructor(readonly token: string) {}

  static saved(): AdminApi | null {
    const token = sessionStorage.getItem(KEY);
    return token ? new AdminApi(token) : null;
  }

  /** Checks the token against the server, and keeps it for this tab if it works. */
  static async signIn(token: string): Promise<AdminApi | string> {
    const api = new AdminApi(token);
    const response = await fetch("/api/v1/domains", { headers: api.#headers() });
    if (!response.ok) return response.status === 401 ? "The admin token is not valid" : `Error ${response.status}`;
    sessionStorage.setItem(KEY, token);
    return api;
  }

  signOut(): void {
    sessionStorage.removeItem(KEY);
  }

  #headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, "content-type": "application/json" };
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
