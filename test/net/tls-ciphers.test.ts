/**
 * Issue 18, finding 9: TLS 1.2 offers only AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305)
 * by default, and `tls.ciphers` changes the list. Checked with `openssl s_client` against a real
 * listener (implicit TLS) and a real `postern serve` (SMTP STARTTLS).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";

const OPENSSL = Bun.which("openssl");
if (!OPENSSL) console.warn("tls-ciphers.test.ts: skipped, the openssl command line tool is not installed");

/** The CBC suites BoringSSL (Bun) offered by default, and AEAD ones that must work. */
const CBC = ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256"];
const AEAD = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"];

/** The suite `openssl s_client` negotiated with these options, or null when the handshake failed. */
async function negotiated(port: number, options: string[]): Promise<string | null> {
  const proc = Bun.spawn([OPENSSL!, "s_client", "-connect", `127.0.0.1:${port}`, ...options], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill(), 10_000);
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  clearTimeout(timer);
  const cipher = /Cipher is (\S+)/.exec(out)?.[1];
  return cipher && cipher !== "(NONE)" ? cipher : null;
}

const tls12 = (cipher: string) => ["-tls1_2", "-cipher", cipher];

describe.skipIf(!OPENSSL)("TLS 1.2 suites of a listener", () => {
  let defaults: Listener;
  let narrowed: Listener;
  beforeAll(async () => {
    const pem = await createSelfSigned("localhost");
    const base = {
      name: "tls-test",
      host: "127.0.0.1",
      port: 0,
      tls: "implicit" as const,
      maxConnectionsPerIp: 50,
      idleTimeoutMs: 5000,
      handler: async (conn: { write(s: string): Promise<void>; close(): void }) => {
        await conn.write("hello\r\n");
        conn.close();
      },
    };
    defaults = await listen({ ...base, secureContext: createSecureContext(pem) });
    narrowed = await listen({
      ...base,
      secureContext: createSecureContext(pem, { ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305" }),
    });
  });
  afterAll(async () => {
    await defaults?.close(100);
    await narrowed?.close(100);
  });

  for (const cipher of CBC) {
    test(`${cipher} (CBC) is refused by default`, async () => {
      expect(await negotiated(defaults.address().port, tls12(cipher))).toBeNull();
    });
  }
  for (const cipher of AEAD) {
    test(`${cipher} (AEAD) is negotiated by default`, async () => {
      expect(await negotiated(defaults.address().port, tls12(cipher))).toBe(cipher);
    });
  }

  test("TLS 1.3 still works", async () => {
    expect(await negotiated(defaults.address().port, ["-tls1_3"])).toMatch(/^TLS_/);
  });

  test("tls.ciphers narrows the list (Bun: BoringSSL applies it)", async () => {
    const port = narrowed.address().port;
    expect(await negotiated(port, tls12("ECDHE-ECDSA-AES128-GCM-SHA256"))).toBeNull();
    expect(await negotiated(port, tls12("ECDHE-ECDSA-CHACHA20-POLY1305"))).toBe("ECDHE-ECDSA-CHACHA20-POLY1305");
  });

  test("a cipher list that matches nothing is an error naming tls.ciphers", async () => {
    const pem = await createSelfSigned("localhost");
    expect(() => createSecureContext(pem, { ciphers: "NO-SUCH-CIPHER" })).toThrow(/tls\.ciphers/);
  });
});

describe.skipIf(!OPENSSL)(`SMTP STARTTLS of postern serve on ${runtime()}`, () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ waitFor: ["smtp"] });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("CBC suites are refused, AEAD ones negotiated", async () => {
    const port = server.ports.smtp!;
    const starttls = ["-starttls", "smtp"];
    for (const cipher of CBC) expect(await negotiated(port, [...starttls, ...tls12(cipher)])).toBeNull();
    for (const cipher of AEAD) expect(await negotiated(port, [...starttls, ...tls12(cipher)])).toBe(cipher);
  });
});
