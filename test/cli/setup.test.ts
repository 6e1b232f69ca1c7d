/**
 * `postern setup` on an empty directory: the config it writes starts `postern serve`, the records it
 * prints, served by a local DNS server, pass `postern dns check`, and a missing or wrong one fails it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type DnsRecord, DnsServer } from "../helpers/dns-server.ts";
import { runPostern } from "../helpers/runtime.ts";
import { ServeProcess } from "../helpers/serve-process.ts";
import { tempDir } from "../helpers/tmp.ts";

let dir: ReturnType<typeof tempDir>;
let config: string;
let setupOutput: string;
const PASSWORD = "correct horse battery staple";

/** Loopback listeners on free ports instead of setup's production ones. */
const LOOPBACK_ENV: Record<string, string> = {
  // No Let's Encrypt from a test (test/net/acme.test.ts orders from Pebble).
  POSTERN_TLS_ACME: "false",
  ...Object.fromEntries(
    ["smtp", "submission", "submissions", "imaps", "pop3s", "managesieve", "http", "https"].flatMap((name) => [
      [`POSTERN_LISTENERS_${name.toUpperCase()}_HOST`, "127.0.0.1"],
      [`POSTERN_LISTENERS_${name.toUpperCase()}_PORT`, "0"],
    ]),
  ),
};

beforeAll(async () => {
  dir = tempDir();
  config = join(dir.path, "postern.json");
  const setup = await runPostern(
    ["setup", "mail.example.test", "admin@example.test", "--config", config, "--password-stdin", "--ip", "127.0.0.1"],
    { stdin: `${PASSWORD}\n`, runtime: "bun" },
  );
  expect(setup.stderr).toBe("");
  expect(setup.code).toBe(0);
  setupOutput = setup.stdout;
});
afterAll(() => dir.cleanup());

/** The zone-file lines (`name. ttl IN TYPE rdata`) printed by setup or `postern dns`, as records to serve. */
function parseZone(text: string): Array<[string, DnsRecord]> {
  const out: Array<[string, DnsRecord]> = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+)\.\s+\d+\s+IN\s+(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, name, type, rdata] = m as unknown as [string, string, string, string];
    const f = rdata.split(/\s+/);
    const host = (s: string) => (s === "." ? "" : s.replace(/\.$/, ""));
    if (type === "A" || type === "AAAA") out.push([name, { type, address: rdata }]);
    else if (type === "MX") out.push([name, { type, priority: Number(f[0]), exchange: host(f[1]!) }]);
    else if (type === "TXT") {
      out.push([name, {
        type,
        text: [...rdata.matchAll(/"([^"]*)"/g)].map((s) => s[1]).join(""),
      }]);
    } else if (type === "CNAME" || type === "PTR") out.push([name, { type, target: host(f[0]!) }]);
    else if (type === "SRV") {
      out.push([name, { type, priority: +f[0]!, weight: +f[1]!, port: +f[2]!, target: host(f[3]!) }]);
    } else throw new Error(`unexpected record type in ${line}`);
  }
  return out;
}

describe("postern setup", () => {
  test("writes a config for the owner only, prints the password only when it made it, refuses to overwrite", async () => {
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(config, "utf8"));
    expect(written.hostname).toBe("mail.example.test");
    expect(written.api.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(written.listeners.smtp).toEqual({ host: "::", port: 25 });
    expect(written.tls.acme).toEqual({
      email: "admin@example.test",
      names: ["mail.example.test", "mta-sts.example.test", "autoconfig.example.test", "autodiscover.example.test"],
    });
    expect(setupOutput).not.toContain(PASSWORD);
    expect(setupOutput).toContain("created the domain example.test and the account admin@example.test");
    const again = await runPostern(["setup", "mail.example.test", "admin@example.test", "--config", config], {
      runtime: "bun",
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("never replaces one");
    expect(readFileSync(config, "utf8")).toBe(JSON.stringify(written, null, 2) + "\n");

    const fresh = tempDir();
    try {
      const made = await runPostern([
        "setup",
        "mail.other.test",
        "root@other.test",
        "--config",
        join(fresh.path, "p.json"),
      ], {
        runtime: "bun",
      });
      expect(made.code).toBe(0);
      expect(made.stdout).toMatch(/password: \S{20,}/);
    } finally {
      fresh.cleanup();
    }
  });

  test("prints every record: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, CNAMEs, RFC 6186 SRV, PTR", () => {
    const names = parseZone(setupOutput).map(([name, r]) => `${r.type} ${name}`);
    expect(names).toEqual(expect.arrayContaining([
      "A mail.example.test",
      "MX example.test",
      "TXT example.test",
      "TXT mail.example.test",
      `TXT postern${new Date().getUTCFullYear()}._domainkey.example.test`,
      "TXT _dmarc.example.test",
      "TXT _mta-sts.example.test",
      "TXT _smtp._tls.example.test",
      "CNAME mta-sts.example.test",
      "CNAME autoconfig.example.test",
      "CNAME autodiscover.example.test",
      "SRV _submissions._tcp.example.test",
      "SRV _submission._tcp.example.test",
      "SRV _imaps._tcp.example.test",
      "SRV _imap._tcp.example.test",
      "SRV _pop3s._tcp.example.test",
      "SRV _pop3._tcp.example.test",
      "PTR 1.0.0.127.in-addr.arpa",
    ]));
    expect(setupOutput).toContain('"v=DMARC1; p=quarantine; rua=mailto:admin@example.test"');
    // Implicit TLS preferred (RFC 8314 §5.1); IMAP without TLS is off, so published as not offered.
    expect(setupOutput).toContain("_submissions._tcp.example.test. 3600 IN SRV 0 1 465 mail.example.test.");
    expect(setupOutput).toContain("_imap._tcp.example.test. 3600 IN SRV 0 0 0 .");
  });

  test("serve starts with the config; the admin token works; the MTA-STS policy is served", async () => {
    const serve = await ServeProcess.start(config, ["--workers", "1"], {
      waitFor: ["smtp", "imaps", "http", "https"],
      env: LOOPBACK_ENV,
    });
    try {
      const base = `http://127.0.0.1:${serve.ports.http}`;
      const token = JSON.parse(readFileSync(config, "utf8")).api.adminToken;
      const domains = await fetch(`${base}/api/v1/domains`, { headers: { authorization: `Bearer ${token}` } });
      expect(domains.status).toBe(200);
      expect(JSON.stringify(await domains.json())).toContain("example.test");
      const policy = await fetch(`${base}/.well-known/mta-sts.txt`);
      expect(policy.status).toBe(200);
      expect(policy.headers.get("content-type")).toStartWith("text/plain");
      // RFC 8461 §3.2: CRLF-terminated key/value lines, the MX named.
      expect(await policy.text()).toBe(
        "version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 604800\r\n",
      );
      // And over HTTPS, where senders fetch it (RFC 8461 §3.3): setup turns the HTTPS listener on (the self-signed
      // certificate here, with tls.acme off).
      const overTls = await fetch(`https://127.0.0.1:${serve.ports.https}/.well-known/mta-sts.txt`, {
        headers: { host: "mta-sts.example.test" },
        tls: { rejectUnauthorized: false },
      } as RequestInit);
      expect(overTls.status).toBe(200);
      expect(await overTls.text()).toContain("mx: mail.example.test\r\n");
    } finally {
      await serve.stop();
    }
  });

  test("dns check finds the published records complete, and reports a missing and a wrong one", async () => {
    const dns = await DnsServer.start();
    try {
      const printed = await runPostern(["dns", "example.test", "--config", config], { runtime: "bun" });
      expect(printed.code).toBe(0);
      // What `dns` prints again is what setup printed, less the address records it was not told of.
      for (const [name, record] of parseZone(printed.stdout)) {
        expect(parseZone(setupOutput)).toContainEqual([name, record]);
      }
      for (const [name, record] of parseZone(setupOutput)) dns.add(name, record);
      const env = { POSTERN_DNS_SERVERS: JSON.stringify([`127.0.0.1:${dns.port}`]) };
      const check = () => runPostern(["dns", "check", "example.test", "--config", config], { env, runtime: "bun" });

      const complete = await check();
      expect(complete.stdout).toContain("all records are in place");
      expect(complete.stdout).not.toMatch(/MISSING|WRONG|ERROR/);
      expect(complete.code).toBe(0);

      // Another SPF record that still allows this server's address is fine.
      dns.records.set("example.test", [
        ...dns.records.get("example.test")!.filter((r) => r.type !== "TXT"),
        { type: "TXT", text: "v=spf1 ip4:127.0.0.0/8 ~all" },
      ]);
      expect((await check()).code).toBe(0);

      const dkimName = [...dns.records.keys()].find((n) => n.includes("._domainkey."))!;
      dns.records.delete(dkimName);
      dns.records.set("example.test", [
        ...dns.records.get("example.test")!.filter((r) => r.type !== "MX"),
        { type: "MX", priority: 10, exchange: "mx.elsewhere.test" },
      ]);
      const broken = await check();
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(new RegExp(`MISSING +${dkimName.replaceAll(".", "\\.")} TXT`));
      expect(broken.stdout).toMatch(/WRONG +example\.test MX/);
      expect(broken.stdout).toContain("found: 10 mx.elsewhere.test");
      expect(broken.stdout).toContain("2 record(s) missing or wrong");
    } finally {
      dns.close();
    }
  });
});
