/**
 * Postfix's tools as benchmark peers (Debian package `postfix`): a private Postfix instance in a
 * temporary directory on a loopback port, delivering to a Maildir; `smtp-sink`, which accepts and
 * discards; `smtp-source`, the load generator; and the /proc readings that measure a process tree.
 * Linux only; Postfix must be started as root (it drops to `mail_owner`).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** Why Postfix's tools cannot run here, or null when they can. */
export function postfixMissing(): string | null {
  for (const tool of ["postfix", "smtp-source", "smtp-sink"]) {
    if (!Bun.which(tool, { PATH: `${process.env.PATH}:/usr/sbin:/usr/lib/postfix/sbin` })) {
      return `${tool} is not installed (Debian: apt-get install postfix)`;
    }
  }
  if (process.getuid?.() !== 0) return "a private Postfix instance must be started as root";
  if (!userIds("postfix")) return "there is no `postfix` user (the Debian package creates it)";
  return null;
}

/** A free TCP port on 127.0.0.1 below the kernel's ephemeral range (32768 and up). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function userIds(name: string): { uid: number; gid: number } | null {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export interface PostfixInstance {
  port: number;
  /** The Maildir `new/` directory every accepted message ends up in. */
  maildir: string;
  /** Messages delivered to the Maildir so far. */
  delivered(): number;
  /** The master process and its children (smtpd, cleanup, qmgr, virtual, ...). */
  pids(): number[];
  /** The last lines of the instance's log. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * Starts Postfix with its own main.cf and master.cf under `dir`: smtpd on 127.0.0.1:`port`, the
 * `virtual` delivery agent writing `recipient`'s mail to a Maildir, no DNS, log in `dir/maillog`.
 * Everything else is Postfix's default (queue file fsynced before the 250, in_flow_delay, ...).
 */
export async function startPostfix(options: {
  dir: string;
  port: number;
  recipient: string;
  sessions: number;
}): Promise<PostfixInstance> {
  const { dir, port, recipient } = options;
  const owner = userIds("postfix")!;
  const domain = recipient.split("@")[1]!;
  const etc = join(dir, "etc");
  const base = join(dir, "vmail");
  const data = join(dir, "data");
  for (const d of [etc, join(dir, "queue"), data, base]) mkdirSync(d, { recursive: true });
  // mkdtemp makes the directory 0700: the mail owner must be able to reach the queue and the data.
  chmodSync(dir, 0o755);
  for (const d of [data, base]) chownSync(d, owner.uid, owner.gid);
  const maillog = join(dir, "maillog");
  writeFileSync(
    join(etc, "main.cf"),
    [
      "compatibility_level = 3.6",
      `queue_directory = ${join(dir, "queue")}`,
      `data_directory = ${data}`,
      "mail_owner = postfix",
      "myhostname = mx.postfix.test",
      "mydomain = postfix.test",
      "mydestination =",
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "mynetworks = 127.0.0.0/8",
      `virtual_mailbox_domains = ${domain}`,
      `virtual_mailbox_base = ${base}`,
      // A trailing slash makes the mailbox a Maildir.
      `virtual_mailbox_maps = inline:{ ${recipient}=${domain}/${recipient.split("@")[0]}/ }`,
      `virtual_uid_maps = static:${owner.uid}`,
      `virtual_gid_maps = static:${owner.gid}`,
      "smtp_host_lookup = native",
      "smtp_dns_support_level = disabled",
      "alias_maps =",
      "alias_database =",
      "biff = no",
      `default_process_limit = ${Math.max(100, 2 * options.sessions)}`,
      // maillog_file is refused unless it starts with one of these prefixes (default /var, /dev/stdout).
      `maillog_file_prefixes = ${dir}`,
      `maillog_file = ${maillog}`,
      "",
    ].join("\n"),
  );
  // Debian's master.cf runs most daemons chrooted in the queue directory: not here.
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    "pickup unix n - n 60 1 pickup",
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "virtual unix - n n - - virtual",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
  ];
  writeFileSync(join(etc, "master.cf"), services.join("\n") + "\n");

  const logTail = (lines = 20) =>
    existsSync(maillog) ? readFileSync(maillog, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";
  const postfix = async (command: string) => {
    const proc = Bun.spawn(["postfix", "-c", etc, command], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    // Fatal errors go to the log (or to syslog before main.cf is read, or to a terminal), not to a pipe.
    if (code !== 0) throw new Error(`postfix ${command} failed (${code}): ${out}${err}\n${logTail()}`);
  };
  await postfix("start");
  const pidFile = join(dir, "queue", "pid", "master.pid");
  const masterPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0);
  await waitFor(async () => masterPid() > 0 && (await accepts(port)), 10_000, () => logTail());

  const maildir = join(base, domain, recipient.split("@")[0]!, "new");
  let stopped = false;
  return {
    port,
    maildir,
    delivered: () => (existsSync(maildir) ? readdirSync(maildir).length : 0),
    pids: () => (masterPid() ? processTree(masterPid()) : []),
    logTail,
    async stop() {
      if (stopped) return;
      stopped = true;
      await postfix("stop");
    },
  };
}

/** `postfix -c DIR stop` without waiting, for an exit handler. */
export function stopPostfixSync(dir: string): void {
  Bun.spawnSync(["postfix", "-c", join(dir, "etc"), "stop"], { stdout: "ignore", stderr: "ignore" });
}

async function accepts(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** Polls `ready` every 50 ms until it holds, or throws after `ms` with `context()` in the message. */
export async function waitFor(
  ready: () => boolean | Promise<boolean>,
  ms: number,
  context: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms\n${context()}`);
    await Bun.sleep(50);
  }
}

/** `smtp-sink` on 127.0.0.1:`port`: accepts every message and discards it. */
export async function startSmtpSink(port: number): Promise<{ pid: number; stop: () => Promise<void> }> {
  const proc = Bun.spawn(["smtp-sink", "-u", "nobody", `127.0.0.1:${port}`, "1000"], {
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitFor(() => accepts(port), 5000);
  return {
    pid: proc.pid,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export interface SourceOptions {
  port: number;
  sessions: number;
  messages: number;
  size: number;
  from: string;
  to: string;
  /** Send every message of a session over one connection (`-d`) instead of a connection each. */
  reuse: boolean;
}

/** The smtp-source command line for these options. */
export function sourceCommand(o: SourceOptions): string[] {
  return [
    "smtp-source",
    "-s",
    String(o.sessions),
    "-m",
    String(o.messages),
    "-l",
    String(o.size),
    ...(o.reuse ? ["-d"] : []),
    "-f",
    o.from,
    "-t",
    o.to,
    `127.0.0.1:${o.port}`,
  ];
}

/** Runs smtp-source to completion; `seconds` is its wall time, `errors` what it printed on stderr. */
export async function runSource(o: SourceOptions): Promise<{ seconds: number; errors: string; code: number }> {
  const started = performance.now();
  const proc = Bun.spawn(sourceCommand(o), { stdout: "ignore", stderr: "pipe" });
  const [errors, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { seconds: (performance.now() - started) / 1000, errors: errors.trim(), code };
}

/** `pid` and all its descendants, from /proc/PID/task/TID/children (Linux). */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) {
        const children = readFileSync(`/proc/${pids[i]}/task/${task}/children`, "utf8").trim();
        if (children) pids.push(...children.split(" ").map(Number));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * CPU time (user + system, ms) the processes `pids` have used, their threads and their ended children included
 * (/proc/PID/stat utime, stime, cutime, cstime; clock ticks of 10 ms).
 */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      for (const i of [11, 12, 13, 14]) ticks += Number(fields[i]);
    } catch {
      // The process ended while we looked.
    }
  }
  return ticks * 10;
}

/** A field of /proc/PID/status (VmRSS, VmHWM, ...) in MiB, 0 if the process is gone. */
export function statusMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Proportional set size of a process in MiB (/proc/PID/smaps_rollup): shared pages are divided
 * among the processes that map them, so a sum over a tree of small processes is not inflated.
 */
export function pssMiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Samples `measure()` every `ms` until `stop()` is called, which returns the highest reading. */
export function sampleMax(measure: () => number, ms = 100): { stop: () => number } {
  let max = measure();
  const timer = setInterval(() => (max = Math.max(max, measure())), ms);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, measure());
    },
  };
}
