import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { envName } from "../../src/config/env.ts";
import { tempDir } from "../helpers/tmp.ts";

function withFile(content: unknown, fn: (path: string) => void): void {
  const dir = tempDir();
  try {
    const path = join(dir.path, "postern.json");
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    fn(path);
  } finally {
    dir.cleanup();
  }
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  test("every key has a development default", () => {
    const c = loadConfig({ env: {} });
    expect(c.hostname).toBe("localhost");
    expect(c.dataDir.endsWith("/data")).toBe(true);
    expect(c.database.url).toBe(`file:${c.dataDir}/postern.db`);
    expect(c.listeners.smtp).toEqual({ host: "127.0.0.1", port: 2525 });
    expect(c.listeners.submission).toEqual({ host: "127.0.0.1", port: 2587 });
    expect(c.listeners.http).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.limits.recipients).toBe(100);
    expect(c.limits.commandTimeout).toBe(300);
    expect(c.auth.allowPlaintext).toBe(false);
    expect(c.policy.spamassassin).toBe(false);
    expect(c.dns.servers).toEqual([]);
    expect(c.delivery.transport).toEqual({});
  });

  test("database.url follows dataDir unless given", () => {
    expect(loadConfig({ env: { POSTERN_DATA_DIR: "/var/lib/postern" } }).database.url).toBe(
      "file:/var/lib/postern/postern.db",
    );
    expect(loadConfig({ env: { POSTERN_DATABASE_URL: "libsql://db.example.net" } }).database.url).toBe(
      "libsql://db.example.net",
    );
  });
});

describe("file and environment layering", () => {
  test("the file overrides defaults and the environment overrides the file", () => {
    withFile({ hostname: "mx.example.com", listeners: { smtp: { port: 25 }, imap: false } }, (file) => {
      const c = loadConfig({ file, env: { POSTERN_LISTENERS_SMTP_PORT: "2500" } });
      expect(c.hostname).toBe("mx.example.com");
      expect(c.listeners.smtp).toEqual({ host: "127.0.0.1", port: 2500 });
      expect(c.listeners.imap).toBe(false);
      expect(c.listeners.pop3).toEqual({ host: "127.0.0.1", port: 2110 });
    });
  });

  test("POSTERN_CONFIG names the file when --config is absent", () => {
    withFile({ hostname: "from-env-file.example" }, (file) => {
      expect(loadConfig({ env: { POSTERN_CONFIG: file } }).hostname).toBe("from-env-file.example");
    });
  });

  test("camelCase keys map to underscored variables", () => {
    expect(envName(["api", "adminToken"])).toBe("POSTERN_API_ADMIN_TOKEN");
    expect(envName(["listeners", "smtp", "port"])).toBe("POSTERN_LISTENERS_SMTP_PORT");
    const c = loadConfig({
      env: {
        POSTERN_API_ADMIN_TOKEN: "0123456789abcdef0123",
        POSTERN_AUTH_ALLOW_PLAINTEXT: "true",
        POSTERN_DNS_SERVERS: '["127.0.0.1:5353"]',
        POSTERN_DELIVERY_TRANSPORT: '{"example.net":"127.0.0.1:2526"}',
        POSTERN_LISTENERS_POP3: "false",
      },
    });
    expect(c.api.adminToken).toBe("0123456789abcdef0123");
    expect(c.auth.allowPlaintext).toBe(true);
    expect(c.dns.servers).toEqual(["127.0.0.1:5353"]);
    expect(c.delivery.transport).toEqual({ "example.net": "127.0.0.1:2526" });
    expect(c.listeners.pop3).toBe(false);
  });

  test("a numeric-looking string key stays a string", () => {
    expect(loadConfig({ env: { POSTERN_HOSTNAME: "12345" } }).hostname).toBe("12345");
  });
});

describe("invalid values name the key", () => {
  test("a port out of range", () => {
    withFile({ listeners: { smtp: { port: 70000 } } }, (file) => {
      const e = configError(() => loadConfig({ file, env: {} }));
      expect(e.key).toBe("listeners.smtp.port");
      expect(e.value).toBe(70000);
      expect(e.source).toBe(file);
      expect(e.message).toContain("listeners.smtp.port = 70000");
    });
  });

  test("a wrong type", () => {
    withFile({ limits: { recipients: "many" } }, (file) => {
      const e = configError(() => loadConfig({ file, env: {} }));
      expect(e.key).toBe("limits.recipients");
      expect(e.reason).toContain("number");
    });
  });

  test("an unknown key", () => {
    withFile({ hostnme: "typo.example" }, (file) => {
      const e = configError(() => loadConfig({ file, env: {} }));
      expect(e.key).toBe("hostnme");
      expect(e.reason).toBe("unknown key");
    });
  });

  test("a bad enum value", () => {
    withFile({ policy: { clamav: { onFailure: "explode" } } }, (file) => {
      expect(configError(() => loadConfig({ file, env: {} })).key).toBe("policy.clamav.onFailure");
    });
  });

  test("a bad host:port", () => {
    withFile({ delivery: { relayHost: "smtp.example.net" } }, (file) => {
      const e = configError(() => loadConfig({ file, env: {} }));
      expect(e.key).toBe("delivery.relayHost");
      expect(e.reason).toBe("must be host:port");
    });
  });

  test("a short admin token", () => {
    const e = configError(() => loadConfig({ env: { POSTERN_API_ADMIN_TOKEN: "short" } }));
    expect(e.key).toBe("api.adminToken");
    expect(e.source).toBe("POSTERN_API_ADMIN_TOKEN");
  });

  test("a non-number in a numeric variable", () => {
    const e = configError(() => loadConfig({ env: { POSTERN_LISTENERS_SMTP_PORT: "abc" } }));
    expect(e.key).toBe("POSTERN_LISTENERS_SMTP_PORT");
    expect(e.reason).toBe("must be a number");
  });

  test("an unknown POSTERN_ variable", () => {
    expect(configError(() => loadConfig({ env: { POSTERN_HOSTNAM: "x" } })).reason).toBe("is not a config key");
  });

  test("tls.cert without tls.key", () => {
    expect(configError(() => loadConfig({ env: { POSTERN_TLS_CERT: "/etc/cert.pem" } })).key).toBe("tls.key");
  });

  test("a file that is not JSON, or missing", () => {
    withFile("{ not json", (file) => {
      expect(configError(() => loadConfig({ file, env: {} })).reason).toContain("not valid JSON");
    });
    expect(configError(() => loadConfig({ file: "/nonexistent/postern.json", env: {} })).reason).toContain(
      "cannot read",
    );
  });
});
