/**
 * The reference SRS implementations as batch drivers for the cross-check tests: postsrsd
 * (libsrs2, over Postfix's tcp_table protocol), Mail::SRS (the `srs` command) and pysrs (Python's
 * `SRS` module under the system Python). Each batch spawns a tool (or opens a connection) once,
 * not once per address. A driver is null when its tool is missing; `missing` says how to get it.
 */
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePortPair } from "./ports.ts";
import { tempDir } from "./tmp.ts";

export type ToolResult = { ok: true; address: string } | { ok: false; error: string };

export interface SrsTool {
  name: string;
  forward(senders: string[]): Promise<ToolResult[]>;
  reverse(addresses: string[]): Promise<ToolResult[]>;
  stop(): void;
}

export interface SrsToolOptions {
  secret: string;
  /** The forwarding domain (postsrsd's `-d`, the `srs` command's `--alias`). */
  domain: string;
}

const POSTSRSD = Bun.which("postsrsd") ?? (Bun.file("/usr/sbin/postsrsd").size > 0 ? "/usr/sbin/postsrsd" : null);
const SRS_COMMAND = Bun.which("srs");
/** pysrs is a Debian package for the system Python; a pyenv `python3` first on PATH lacks it. */
const SYSTEM_PYTHON = Bun.file("/usr/bin/python3").size > 0 ? "/usr/bin/python3" : Bun.which("python3");
const PYSRS = SYSTEM_PYTHON !== null && Bun.spawnSync([SYSTEM_PYTHON, "-c", "import SRS"]).exitCode === 0
  ? SYSTEM_PYTHON
  : null;

export const missing = {
  postsrsd: POSTSRSD ? null : "postsrsd is not installed (apt-get install postsrsd)",
  srs: SRS_COMMAND ? null : "the srs command (Mail::SRS) is not installed (apt-get install srs)",
  pysrs: PYSRS ? null : "pysrs is not importable from /usr/bin/python3 (apt-get install python3-srs)",
};

/** Postfix tcp_table: one connection, every `get KEY` pipelined, one `200 VALUE`/`500 reason` line each. */
function tcpTable(port: number, keys: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const lines: string[] = [];
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) !== -1) {
        lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
      if (lines.length >= keys.length) {
        socket.destroy();
        resolve(lines);
      }
    });
    socket.on("error", reject);
    socket.on("close", () => lines.length < keys.length && reject(new Error("postsrsd closed the connection")));
    if (keys.length === 0) {
      socket.destroy();
      resolve([]);
      return;
    }
    socket.write(keys.map((k) => `get ${k}\n`).join(""));
  });
}

function fromTcpTable(line: string): ToolResult {
  return line.startsWith("200 ") ? { ok: true, address: line.slice(4) } : { ok: false, error: line };
}

export async function startPostsrsd(options: SrsToolOptions): Promise<SrsTool | null> {
  if (!POSTSRSD) return null;
  const tmp = tempDir();
  const secretFile = join(tmp.path, "secret");
  writeFileSync(secretFile, `${options.secret}\n`);
  const [forwardPort, reversePort] = await freePortPair();
  const proc = Bun.spawn(
    [POSTSRSD, `-s${secretFile}`, `-d${options.domain}`, "-l127.0.0.1", `-f${forwardPort}`, `-r${reversePort}`, "-4"],
    { stdout: "ignore", stderr: "ignore" },
  );
  for (let i = 0; i < 50; i++) {
    if (await tcpTable(forwardPort, ["probe@x.example"]).catch(() => null)) break;
    await Bun.sleep(100);
  }
  return {
    name: "postsrsd",
    forward: async (senders) => (await tcpTable(forwardPort, senders)).map(fromTcpTable),
    reverse: async (addresses) => (await tcpTable(reversePort, addresses)).map(fromTcpTable),
    stop: () => {
      proc.kill();
      tmp.cleanup();
    },
  };
}

/**
 * Mail::SRS's `srs` command prints one line per address and dies at the first it cannot
 * transform; the driver records that address as refused and starts again after it.
 */
export function mailSrs(options: SrsToolOptions): SrsTool | null {
  if (!SRS_COMMAND) return null;
  const run = async (flags: string[], addresses: string[]): Promise<ToolResult[]> => {
    const results: ToolResult[] = [];
    while (results.length < addresses.length) {
      const rest = addresses.slice(results.length);
      const proc = Bun.spawn([SRS_COMMAND, `--secret=${options.secret}`, ...flags, "--", ...rest], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      const lines = out.split("\n").slice(0, -1);
      for (const line of lines.slice(0, rest.length)) results.push({ ok: true, address: line });
      if (code !== 0) results.push({ ok: false, error: err.trim().split("\n").at(-1) ?? `exit ${code}` });
      else if (lines.length < rest.length) throw new Error(`srs printed ${lines.length} of ${rest.length} lines`);
    }
    return results;
  };
  return {
    name: "srs (Mail::SRS)",
    forward: (senders) => run(["--forward", `--alias=${options.domain}`], senders),
    reverse: (addresses) => run(["--reverse"], addresses),
    stop: () => {},
  };
}

/** Reads `F address` / `R address` lines, answers `OK result` or `ERR reason` for each. */
const PYSRS_SCRIPT = `
import sys, SRS
srs = SRS.new(sys.argv[1])
for line in sys.stdin:
    op, address = line.rstrip("\\n").split(" ", 1)
    try:
        out = srs.forward(address, sys.argv[2]) if op == "F" else srs.reverse(address)
        print("OK " + out)
    except Exception as e:
        print("ERR " + (str(e) or type(e).__name__).replace("\\n", " "))
`;

export function pysrs(options: SrsToolOptions): SrsTool | null {
  if (!PYSRS) return null;
  const run = async (op: "F" | "R", addresses: string[]): Promise<ToolResult[]> => {
    const proc = Bun.spawn([PYSRS, "-c", PYSRS_SCRIPT, options.secret, options.domain], {
      stdin: new TextEncoder().encode(addresses.map((a) => `${op} ${a}\n`).join("")),
      stdout: "pipe",
      stderr: "ignore", // pysrs warns there when it accepts a case-smashed hash
    });
    const out = await new Response(proc.stdout).text();
    if ((await proc.exited) !== 0) throw new Error("pysrs driver failed");
    return out.split("\n").slice(0, addresses.length).map((line) =>
      line.startsWith("OK ") ? { ok: true, address: line.slice(3) } : { ok: false, error: line.slice(4) }
    );
  };
  return {
    name: "pysrs",
    forward: (senders) => run("F", senders),
    reverse: (addresses) => run("R", addresses),
    stop: () => {},
  };
}
