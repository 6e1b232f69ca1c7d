/**
 * Runs Pigeonhole's `sieve-test` (Debian dovecot-sieve) on a script and a message, and reads its printed actions
 * into the same normalized lines `normalizePostern` makes of Postern's actions, for the cross-check corpus.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { SieveAction, SieveResult } from "../../src/sieve/index.ts";

/** What a run came to: a compile error, or the normalized actions (and whether a run-time error occurred). */
export type Outcome = { compile: "error" } | { compile: "ok"; runtimeError: boolean; actions: string[] };

export function sieveTestPath(): string | null {
  const r = spawnSync("sh", ["-c", "command -v sieve-test"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : null;
}

/** A scratch directory that sieve-test (which drops root privileges to `nobody`) can write its binaries into. */
export function pigeonholeWorkdir(): string {
  const dir = mkdtempSync(join(tmpdir(), "postern-sieve-"));
  chmodSync(dir, 0o777);
  const root = process.getuid?.() === 0;
  writeFileSync(
    join(dir, "dovecot.conf"),
    [
      ...(root ? ["mail_uid = nobody", "mail_gid = nogroup"] : []),
      `mail_location = maildir:${join(dir, "mail")}`,
      "plugin {",
      "  sieve_extensions = +editheader +vacation-seconds",
      "}",
      "",
    ].join("\n"),
  );
  return dir;
}

export function runPigeonhole(
  dir: string,
  scriptPath: string,
  messagePath: string,
  envelope: { from: string; to: string },
): Outcome {
  const script = join(dir, basename(scriptPath));
  const message = join(dir, basename(messagePath));
  copyFileSync(scriptPath, script);
  copyFileSync(messagePath, message);
  chmodSync(script, 0o644);
  chmodSync(message, 0o644);
  const args = ["-c", join(dir, "dovecot.conf"), "-f", envelope.from];
  args.push("-a", envelope.to, "-r", envelope.to, script, message);
  const r = spawnSync("sieve-test", args, { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
  const out = `${r.stdout}\n${r.stderr}`;
  if (/failed to compile sieve script/.test(out)) return { compile: "error" };
  if (/resolved with successful implicit keep/.test(out)) {
    return { compile: "ok", runtimeError: true, actions: ["store INBOX"] };
  }
  if (r.status !== 0) throw new Error(`sieve-test failed (exit ${r.status}):\n${out}`);
  return { compile: "ok", runtimeError: false, actions: parseActions(r.stdout).sort() };
}

/** Reads the "Performed actions:" and "Implicit keep:" sections of sieve-test's output. */
function parseActions(stdout: string): string[] {
  const actions: string[] = [];
  let current: { kind: string; text: string; flags: string[]; create: boolean; vacation: string[] } | null = null;
  let inMessage = false;
  let reason: string[] = [];
  const flush = () => {
    if (!current) return;
    if (current.kind === "store") {
      const flags = current.flags.length ? ` flags=${current.flags.map((f) => f.toLowerCase()).sort().join(",")}` : "";
      actions.push(`store ${current.text}${flags}${current.create ? " create" : ""}`);
    } else if (current.kind === "vacation") {
      actions.push(`vacation ${current.vacation.sort().join(" ")} reason=${JSON.stringify(reason.join("\n"))}`);
    } else actions.push(`${current.kind}${current.text ? ` ${current.text}` : ""}`);
    current = null;
  };
  for (const line of stdout.split("\n")) {
    if (inMessage) {
      if (line === "END MESSAGE") inMessage = false;
      else reason.push(line);
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^ \* store message in folder: (.*)$/.exec(line))) {
      flush();
      current = { kind: "store", text: m[1]!, flags: [], create: false, vacation: [] };
    } else if ((m = /^ \* redirect message to: <(.*)>$/.exec(line))) {
      flush();
      current = { kind: "redirect", text: m[1]!, flags: [], create: false, vacation: [] };
    } else if ((m = /^ \* reject message with reason: (.*)$/.exec(line))) {
      flush();
      current = { kind: "reject", text: m[1]!, flags: [], create: false, vacation: [] };
    } else if (/^ \* discard$/.test(line)) {
      flush();
      current = { kind: "discard", text: "", flags: [], create: false, vacation: [] };
    } else if (/^ \* send vacation message:$/.test(line)) {
      flush();
      reason = [];
      current = { kind: "vacation", text: "", flags: [], create: false, vacation: [] };
    } else if ((m = /^ \* (track duplicate.*)$/.exec(line))) {
      flush();
      current = { kind: m[1]!, text: "", flags: [], create: false, vacation: [] };
    } else if (/^ \* /.test(line)) {
      flush();
      current = { kind: `unknown:${line.slice(3)}`, text: "", flags: [], create: false, vacation: [] };
    } else if (current && (m = /^\s+\+ add IMAP flags: (.*)$/.exec(line))) {
      current.flags.push(...m[1]!.split(" ").filter((f) => f !== ""));
    } else if (current && /^\s+\+ create mailbox if it does not exist$/.test(line)) {
      current.create = true;
    } else if (current && (m = /^\s+=> (seconds|subject|from)\s*: (.*)$/.exec(line))) {
      current.vacation.push(`${m[1]}=${m[2]}`);
    } else if (line === "START MESSAGE") {
      inMessage = true;
    }
  }
  flush();
  return actions;
}

/** Postern's result in the same lines (editheader changes are not printed by sieve-test and are left out). */
export function normalizePostern(result: SieveResult): Outcome {
  const lines = result.actions.flatMap((a: SieveAction): string[] => {
    switch (a.type) {
      case "keep":
      case "fileinto": {
        const box = a.type === "keep" ? "INBOX" : a.mailbox;
        const flags = a.flags.length ? ` flags=${a.flags.map((f) => f.toLowerCase()).sort().join(",")}` : "";
        return [`store ${box}${flags}${a.type === "fileinto" && a.create ? " create" : ""}`];
      }
      case "redirect":
        return [`redirect ${a.address}`];
      case "reject":
        return [`reject ${a.reason}`];
      case "discard":
        return ["discard"];
      case "vacation": {
        const parts = [`seconds=${a.seconds}`];
        if (a.subject !== null) parts.push(`subject=${a.subject}`);
        if (a.from !== null) parts.push(`from=${a.from}`);
        return [`vacation ${parts.sort().join(" ")} reason=${JSON.stringify(a.reason)}`];
      }
      default:
        return [];
    }
  });
  // RFC 7352: sieve-test prints the ids a duplicate test will record.
  for (const key of result.error ? [] : result.duplicates) {
    const handle = key.slice(0, key.indexOf("\u0000"));
    lines.push(handle ? `track duplicate with handle: ${handle}` : "track duplicate");
  }
  return { compile: "ok", runtimeError: result.error !== null, actions: lines.sort() };
}
