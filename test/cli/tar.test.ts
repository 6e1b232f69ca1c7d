/**
 * The backup archive's tar writer and reader (src/util/tar.ts): a round trip of small, empty,
 * block-sized and multi-chunk files with long names; GNU tar lists what it writes; a header
 * whose checksum is wrong and an archive cut short are refused.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTar, TarError, TarWriter } from "../../src/util/tar.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("postern-tar-");
afterAll(() => tmp.cleanup());

const long = `data/${"d".repeat(120)}/${"f".repeat(90)}.key`;
const big = new Uint8Array(3 * (1 << 20) + 7).map((_, i) => (i * 31) & 0xff);

function write(name: string): string {
  const path = join(tmp.path, name);
  const source = join(tmp.path, `${name}.big`);
  writeFileSync(source, big);
  const tar = new TarWriter(path);
  tar.addBytes("manifest.json", new TextEncoder().encode("{}"));
  tar.addBytes("empty", new Uint8Array(0));
  tar.addBytes("block", new Uint8Array(512).fill(65));
  tar.addBytes(long, new TextEncoder().encode("key"));
  expect(tar.addFile("data/postern.db", source)).toBe(big.length);
  tar.close();
  return path;
}

function contents(path: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const entry of readTar(path)) {
    const chunks: Uint8Array[] = [];
    entry.read((c) => chunks.push(c.slice()));
    out.set(entry.name, Buffer.concat(chunks));
  }
  return out;
}

describe("tar", () => {
  test("round trip", () => {
    const got = contents(write("a.tar"));
    expect([...got.keys()]).toEqual(["manifest.json", "empty", "block", long, "data/postern.db"]);
    expect(got.get("empty")!.length).toBe(0);
    expect(got.get("block")!.length).toBe(512);
    expect(new TextDecoder().decode(got.get(long))).toBe("key");
    expect(Buffer.compare(got.get("data/postern.db")!, big)).toBe(0);
  });

  test("GNU tar reads it", () => {
    const path = write("b.tar");
    const tar = spawnSync("tar", ["-tf", path], { encoding: "utf8" });
    if (tar.error) return console.warn("skipped: tar is not installed");
    expect(tar.status).toBe(0);
    expect(tar.stdout.trim().split("\n")).toEqual(["manifest.json", "empty", "block", long, "data/postern.db"]);
    const one = spawnSync("tar", ["-xOf", path, "data/postern.db"], { maxBuffer: 16 << 20 });
    expect(Buffer.compare(one.stdout, big)).toBe(0);
  });

  test("a bad checksum and a cut archive are refused", () => {
    const path = write("c.tar");
    const bytes = readFileSync(path);
    const bad = Buffer.from(bytes);
    bad[0] = 0x5a;
    writeFileSync(join(tmp.path, "bad.tar"), bad);
    expect(() => contents(join(tmp.path, "bad.tar"))).toThrow(TarError);
    writeFileSync(join(tmp.path, "cut.tar"), bytes.subarray(0, 2048 + 1000));
    expect(() => contents(join(tmp.path, "cut.tar"))).toThrow(/ends/);
    expect(() => new TarWriter(path)).toThrow(); // never overwrites
  });
});
