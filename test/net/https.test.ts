/**
 * The HTTPS listener (`listeners.https`, issue 20): the MTA-STS policy at
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3) and Thunderbird's autoconfig over TLS with the
 * configured certificate, verified against it as the CA; the client's address reaches the app; a new certificate on
 * disk is presented to new HTTPS connections without a restart. The self-signed certificate serves when none is
 * configured, and embedded configs leave the listener off.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { parseConfig } from "../../src/config/load.ts";
import { createSelfSigned } from "../../src/net/certificate.ts";
import { createPostern } from "../../src/index.ts";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";
import { tempDir } from "../helpers/tmp.ts";

const HOST = "mail.example.test";
const NAMES = { dns: [HOST, "mta-sts.example.test", "autoconfig.example.test"], ips: [] };
let files: ReturnType<typeof tempDir>;
let server: ServerProcess;
let first: { cert: string; key: string };

/** GET over HTTPS, verifying the server for `servername` against `ca`. */
function get(
  port: number,
  path: string,
  options: { servername: string; ca: string; host?: string },
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      servername: options.servername,
      ca: options.ca,
      headers: { host: options.host ?? options.servername },
      agent: false,
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The SHA-256 fingerprint of the certificate a new connection gets. */
function fingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: HOST, rejectUnauthorized: false }, () => {
      const value = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(value);
    });
    socket.on("error", reject);
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

beforeAll(async () => {
  files = tempDir();
  first = await createSelfSigned(HOST, NAMES);
  writeFileSync(join(files.path, "key.pem"), first.key);
  writeFileSync(join(files.path, "cert.pem"), first.cert);
  server = await startServer({
    config: {
      hostname: HOST,
      tls: { cert: join(files.path, "cert.pem"), key: join(files.path, "key.pem") },
      listeners: { https: { host: "127.0.0.1", port: 0 } },
    },
    waitFor: ["http", "https", "imaps"],
  });
  expect((await server.cli(["domain", "add", "example.test"])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  files?.cleanup();
});

describe(`the HTTPS listener on ${runtime()}`, () => {
  test("the MTA-STS policy over HTTPS, the certificate verified for mta-sts.<domain>", async () => {
    const policy = await get(server.ports.https!, "/.well-known/mta-sts.txt", {
      servername: "mta-sts.example.test",
      ca: first.cert,
    });
    expect(policy.status).toBe(200);
    expect(policy.type).toStartWith("text/plain");
    expect(policy.body).toBe(`version: STSv1\r\nmode: testing\r\nmx: ${HOST}\r\nmax_age: 604800\r\n`);
  });

  test("Thunderbird's autoconfig over HTTPS at autoconfig.<domain>", async () => {
    const config = await get(server.ports.https!, "/mail/config-v1.1.xml?emailaddress=ann@example.test", {
      servername: "autoconfig.example.test",
      ca: first.cert,
    });
    expect(config.status).toBe(200);
    expect(config.type).toStartWith("application/xml");
    expect(config.body).toContain("<clientConfig");
    expect(config.body).toContain(`<hostname>${HOST}</hostname>`);
  });

  test("the same app as the HTTP listener: health, 404 problem documents", async () => {
    const health = await get(server.ports.https!, "/healthz", { servername: HOST, ca: first.cert });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).status).toBe("ok");
    const missing = await get(server.ports.https!, "/nothing-here", { servername: HOST, ca: first.cert });
    expect(missing.status).toBe(404);
    expect(missing.type).toBe("application/problem+json");
  });

  test("a wrong name fails verification (the certificate is the configured one, not another)", async () => {
    await expect(get(server.ports.https!, "/healthz", { servername: "other.test", ca: first.cert })).rejects
      .toThrow();
  });

  test("a new certificate on disk is presented to new HTTPS connections, without a restart", async () => {
    expect(await fingerprint(server.ports.https!)).toBe(fingerprintOf(first.cert));
    const pid = server.proc.pid;
    const second = await createSelfSigned(HOST, NAMES);
    writeFileSync(join(files.path, "key.pem"), second.key);
    writeFileSync(join(files.path, "cert.pem"), second.cert);
    server.proc.kill("SIGHUP");
    const wanted = fingerprintOf(second.cert);
    const deadline = Date.now() + 10_000;
    while ((await fingerprint(server.ports.https!).catch(() => "")) !== wanted) {
      if (Date.now() > deadline) throw new Error(`the HTTPS listener kept its certificate:\n${server.log()}`);
      await Bun.sleep(50);
    }
    const policy = await get(server.ports.https!, "/.well-known/mta-sts.txt", {
      servername: "mta-sts.example.test",
      ca: second.cert,
    });
    expect(policy.status).toBe(200);
    expect(server.proc.pid).toBe(pid);
    expect(server.proc.exitCode).toBeNull();
  });
});

describe("listeners.https defaults", () => {
  test("off unless configured; { } takes 127.0.0.1:8443", () => {
    expect(parseConfig({}).listeners.https).toBe(false);
    expect(parseConfig({ listeners: { https: {} } }).listeners.https).toEqual({ host: "127.0.0.1", port: 8443 });
  });

  test("an embedded Postern opens no HTTPS listener it was not given", async () => {
    const dir = tempDir();
    try {
      const postern = await createPostern({ config: { dataDir: dir.path, listeners: { http: { port: 0 } } } });
      try {
        expect(postern.addresses.https).toBeUndefined();
        expect(postern.addresses.http).toBeDefined();
      } finally {
        await postern.stop(0);
      }
    } finally {
      dir.cleanup();
    }
  });
});
