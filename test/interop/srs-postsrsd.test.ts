/**
 * SRS against postsrsd (Debian package): the same secret and domain must give the same
 * rewritten addresses, and each side must reverse the other's. Skips where postsrsd is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Srs } from "../../src/forward/srs.ts";
import { tempDir } from "../helpers/tmp.ts";
import { freePortPair } from "../helpers/ports.ts";

const postsrsd = Bun.which("postsrsd") ?? (Bun.file("/usr/sbin/postsrsd").size > 0 ? "/usr/sbin/postsrsd" : null);
if (!postsrsd) console.warn("skipping postsrsd cross-check: postsrsd is not installed (apt-get install postsrsd)");

const SECRET = "interop-secret-123";
const DOMAIN = "fwd.example";
const [FORWARD, REVERSE] = await freePortPair();
let proc: Subprocess | undefined;
const tmp = tempDir();

beforeAll(async () => {
  if (!postsrsd) return;
  const secretFile = join(tmp.path, "secret");
  writeFileSync(secretFile, `${SECRET}\n`);
  proc = Bun.spawn([postsrsd, `-s${secretFile}`, `-d${DOMAIN}`, "-l127.0.0.1", `-f${FORWARD}`, `-r${REVERSE}`, "-4"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  for (let i = 0; i < 50 && !(await lookup(FORWARD, "probe@x.example").catch(() => null)); i++) await Bun.sleep(100);
});
afterAll(() => {
  proc?.kill();
  tmp.cleanup();
});

/** Postfix tcp_table protocol: "get KEY\n" → "200 VALUE\n" or "500 ...". */
function lookup(port: number, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.endsWith("\n")) {
        socket.destroy();
        resolve(data.trim());
      }
    });
    socket.on("error", reject);
    socket.write(`get ${key}\n`);
  });
}

describe("SRS interoperability with postsrsd", () => {
  const ours = new Srs({ secret: SECRET, domain: DOMAIN });

  test.skipIf(!postsrsd)("SRS0: the same address from both, and each reverses the other's", async () => {
    const theirs = await lookup(FORWARD, "alice@origin.example");
    expect(theirs).toBe(`200 ${ours.forward("alice@origin.example")}`);
    expect(ours.reverse(theirs.slice(4))).toEqual({ ok: true, address: "alice@origin.example" });
    expect(await lookup(REVERSE, ours.forward("bob@origin.example"))).toBe("200 bob@origin.example");
  });

  test.skipIf(!postsrsd)("SRS1 from someone else's SRS0, both ways", async () => {
    const upstream = new Srs({ secret: "upstream", domain: "first.example" }).forward("carol@origin.example");
    const theirs = await lookup(FORWARD, upstream);
    expect(theirs).toBe(`200 ${ours.forward(upstream)}`);
    expect(await lookup(REVERSE, ours.forward(upstream))).toBe(`200 ${upstream}`);
  });
});
