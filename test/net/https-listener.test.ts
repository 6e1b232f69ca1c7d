/**
 * src/net/https.ts in process: the client's address reaches the app through the loopback bridge, and while a
 * TLS-ALPN-01 challenge is pending (RFC 8737 §3) a ClientHello offering `acme-tls/1` for the name gets the challenge
 * certificate and nothing else, while every other client (other name, no ALPN, h2/http1.1) gets the usual one.
 * src/tls/client-hello.ts: the server name and the ALPN list from a real ClientHello cut at every size.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { connect as netConnect, createServer } from "node:net";
import { request } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import type { HttpServer } from "../../src/net/http.ts";
import { ACME_TLS_ALPN, serveHttps } from "../../src/net/https.ts";
import { parseClientHello } from "../../src/tls/client-hello.ts";

let server: HttpServer;
let usual: { cert: string; key: string };
let challenge: { cert: string; key: string };
let pending = false;

beforeAll(async () => {
  usual = await createSelfSigned("mail.example.test");
  challenge = await createSelfSigned("acme.example.test");
  const challengeContext = createSecureContext(challenge);
  server = await serveHttps({
    host: "127.0.0.1",
    port: 0,
    secureContext: () => createSecureContext(usual),
    fetch: (_request, env) => new Response(env.remoteAddress),
    alpnPending: () => pending,
    alpnChallenge: (name) => (name === "acme.example.test" ? challengeContext : undefined),
  });
});
afterAll(() => server?.close());

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

function handshake(servername: string, alpn?: string[]): Promise<{ fingerprint: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: "127.0.0.1", port: server.port, servername, rejectUnauthorized: false, ALPNProtocols: alpn },
      () => {
        resolve({ fingerprint: socket.getPeerCertificate().fingerprint256, alpn: socket.alpnProtocol ?? false });
        socket.destroy();
      },
    );
    socket.on("error", reject);
  });
}

function remoteAddressSeen(localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: server.port, path: "/", localAddress, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("the HTTPS listener", () => {
  test("the app sees the TLS client's address, not the bridge's", async () => {
    expect(await remoteAddressSeen("127.0.0.2")).toBe("127.0.0.2");
    expect(await remoteAddressSeen("127.0.0.3")).toBe("127.0.0.3");
  });

  test("no challenge pending: a client offering only acme-tls/1 is refused (RFC 7301 §3.2 no_application_protocol)", async () => {
    pending = false;
    await expect(handshake("acme.example.test", [ACME_TLS_ALPN])).rejects.toThrow(/NO_APPLICATION_PROTOCOL/i);
    expect((await handshake("acme.example.test", ["h2", "http/1.1"])).alpn).toBe("http/1.1");
  });

  test("a pending TLS-ALPN-01 challenge: the validation connection gets the challenge certificate", async () => {
    pending = true;
    try {
      const validation = await handshake("acme.example.test", [ACME_TLS_ALPN]);
      expect(validation.fingerprint).toBe(fingerprint(challenge.cert));
      expect(validation.alpn).toBe(ACME_TLS_ALPN);
      // Everyone else meanwhile: the usual certificate, HTTP still served.
      expect((await handshake("acme.example.test")).fingerprint).toBe(fingerprint(usual.cert));
      expect((await handshake("acme.example.test", ["h2", "http/1.1"])).fingerprint).toBe(fingerprint(usual.cert));
      // acme-tls/1 for a name without a challenge: no challenge certificate, and no protocol to agree on.
      await expect(handshake("mail.example.test", [ACME_TLS_ALPN])).rejects.toThrow(/NO_APPLICATION_PROTOCOL/i);
      expect(await remoteAddressSeen("127.0.0.4")).toBe("127.0.0.4");
    } finally {
      pending = false;
    }
  });

  test("garbage instead of a ClientHello while a challenge is pending: the connection is closed, the server goes on", async () => {
    pending = true;
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = netConnect(server.port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\n\r\n"));
        socket.on("close", () => resolve(true));
        socket.on("error", () => {});
      });
      expect(closed).toBe(true);
      expect((await handshake("mail.example.test")).fingerprint).toBe(fingerprint(usual.cert));
    } finally {
      pending = false;
    }
  });
});

/** A real ClientHello, as a TLS client sends it: captured from node:tls by a plain TCP server. */
async function captureClientHello(servername: string, alpn: string[]): Promise<Uint8Array> {
  let chunks: Uint8Array[] = [];
  const capture = createServer((socket) => {
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (parseClientHello(Buffer.concat(chunks)).kind !== "more") socket.destroy();
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
  const port = (capture.address() as { port: number }).port;
  await new Promise<void>((resolve) => {
    const client = tlsConnect({ host: "127.0.0.1", port, servername, ALPNProtocols: alpn, rejectUnauthorized: false });
    client.on("error", () => resolve());
    client.on("close", () => resolve());
  });
  capture.close();
  const bytes = Buffer.concat(chunks);
  chunks = [];
  return new Uint8Array(bytes);
}

describe("parseClientHello", () => {
  test("server name and ALPN from a real ClientHello, cut at every size", async () => {
    const hello = await captureClientHello("Acme.Example.Test", [ACME_TLS_ALPN, "http/1.1"]);
    const whole = parseClientHello(hello);
    expect(whole).toEqual({ kind: "hello", serverName: "acme.example.test", alpn: [ACME_TLS_ALPN, "http/1.1"] });
    for (let cut = 0; cut < hello.length; cut++) {
      expect(parseClientHello(hello.subarray(0, cut)).kind).toBe("more");
    }
    // The same message split over two handshake records (RFC 8446 §5.1 allows it).
    const body = hello.subarray(5);
    const half = Math.floor(body.length / 2);
    const record = (part: Uint8Array) => [22, 3, 1, part.length >> 8, part.length & 255, ...part];
    const split = Uint8Array.from([...record(body.subarray(0, half)), ...record(body.subarray(half))]);
    expect(parseClientHello(split)).toEqual(whole);
  });

  test("no ALPN, no SNI", async () => {
    const hello = await captureClientHello("", []);
    expect(parseClientHello(hello)).toEqual({ kind: "hello", serverName: undefined, alpn: [] });
  });

  test("not a ClientHello: plain HTTP, an alert, a truncated extension list", async () => {
    expect(parseClientHello(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")).kind).toBe("other");
    expect(parseClientHello(Uint8Array.from([21, 3, 3, 0, 2, 2, 40])).kind).toBe("other");
    const hello = await captureClientHello("a.test", ["x"]);
    const broken = hello.slice();
    broken[broken.length - 3] = 0xff; // an extension's length now runs past the end
    expect(parseClientHello(broken).kind).not.toBe("more");
  });
});
