/**
 * Dovecot as a benchmark peer (Debian package `dovecot-imapd`): a private instance started from a
 * temporary directory, plain IMAP on a loopback port, one passwd-file user whose mail is a Maildir.
 * Nothing of the system's Dovecot is used but its binaries: `dovecot -c CONF -F` reads only the
 * configuration written here (base_dir, state_dir and log in the directory). Linux only; must be
 * started as root (Dovecot switches to `mail_uid` for mail and to dovenull/dovecot for the rest).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processTree, waitFor } from "./postfix.ts";

/** The system users the instance runs as; Debian's package creates dovecot and dovenull. */
const LOGIN_USER = "dovenull";
const INTERNAL_USER = "dovecot";
/** Owns the Maildir. Not `dovecot`: a mail user must be none of Dovecot's internal users. */
export const MAIL_USER = "mail";

/** Why a private Dovecot cannot run here, or null when it can. */
export function dovecotMissing(): string | null {
  for (const tool of ["dovecot", "doveadm"]) {
    if (!Bun.which(tool, { PATH: `${process.env.PATH}:/usr/sbin` })) {
      return `${tool} is not installed (Debian: apt-get install dovecot-imapd)`;
    }
  }
  if (process.getuid?.() !== 0) return "a private Dovecot instance must be started as root";
  for (const user of [LOGIN_USER, INTERNAL_USER, MAIL_USER]) {
    if (!userIds(user)) return `there is no \`${user}\` user (the Debian package creates dovecot and dovenull)`;
  }
  return null;
}

export function userIds(name: string): { uid: number; gid: number } | null {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** `dovecot --version`, e.g. "2.3.19.1". */
export function dovecotVersion(): string {
  const out = Bun.spawnSync(["dovecot", "--version"], { stdout: "pipe", stderr: "ignore" });
  return out.stdout.toString().trim().split(" ")[0] ?? "unknown";
}

/**
 * The passwd-file line for `user`. `crypt` is what `doveadm pw` makes by default (Dovecot's
 * default scheme for passwd-file, CRYPT: bcrypt with cost 5 in 2.3); `plain` stores the password
 * as it is, so a login costs no hash at all.
 */
export async function passwdLine(user: string, password: string, scheme: "crypt" | "plain"): Promise<string> {
  if (scheme === "plain") return `${user}:{PLAIN}${password}::::::`;
  const proc = Bun.spawn(["doveadm", "pw", "-p", password], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`doveadm pw failed (${code}): ${err}`);
  return `${user}:${out.trim()}::::::`;
}

export interface DovecotOptions {
  /**
   * Holds dovecot.conf, base_dir, state_dir, the users file and the log; opened to 0755. Its
   * parents and `mail`'s must be open to Dovecot's users too (mkdtemp makes 0700 directories).
   */
  dir: string;
  port: number;
  /** Parent of every user's Maildir (`maildir:MAIL/%u`); two instances may share it. */
  mail: string;
  /** passwd-file lines (see passwdLine). */
  users: string[];
  /** Sessions the instance must be able to hold at once (one `imap` process each). */
  sessions: number;
  /** Dovecot's `auth_cache_size` (0, the default, is off), e.g. "10M". */
  authCacheSize?: string;
}

export interface DovecotInstance {
  port: number;
  /** The master process (`dovecot -F`). */
  pid: number;
  conf: string;
  /** The master and all its children (anvil, log, config, auth, imap-login, imap × sessions, ...). */
  pids(): number[];
  logTail(lines?: number): string;
  /** The log's warnings and errors so far. */
  complaints(): string[];
  stop(): Promise<void>;
}

/** The configuration: everything in `dir`, everything else Dovecot's default. */
export function dovecotConf(o: DovecotOptions): string {
  const version = dovecotVersion();
  const [major, minor] = version.split(".").map(Number);
  const v24 = (major ?? 0) > 2 || (major === 2 && (minor ?? 0) >= 4);
  const mailUser = userIds(MAIL_USER)!;
  // Every session is an imap process with a connection to anvil, stats and the log; the master
  // warns (and then refuses clients) when a client_limit is below what process_limit implies.
  const clients = 2 * o.sessions + 1000;
  return [
    `# bench/dovecot.ts, Dovecot ${version}`,
    `base_dir = ${join(o.dir, "run")}`,
    `state_dir = ${join(o.dir, "state")}`,
    `log_path = ${join(o.dir, "dovecot.log")}`,
    "listen = 127.0.0.1",
    "protocols = imap",
    "ssl = no",
    // 2.4 renamed it; 2.3 refuses the new name and the reverse.
    v24 ? "auth_allow_cleartext = yes" : "disable_plaintext_auth = no",
    "auth_mechanisms = plain",
    `default_login_user = ${LOGIN_USER}`,
    `default_internal_user = ${INTERNAL_USER}`,
    `mail_uid = ${MAIL_USER}`,
    `mail_gid = ${MAIL_USER}`,
    // Debian's mail user is uid 8; the default first_valid_uid (500) would refuse it.
    `first_valid_uid = ${Math.min(mailUser.uid, 500)}`,
    `first_valid_gid = ${Math.min(mailUser.gid, 500)}`,
    `mail_location = maildir:${o.mail}/%u`,
    `default_client_limit = ${clients}`,
    ...(o.authCacheSize ? [`auth_cache_size = ${o.authCacheSize}`] : []),
    "passdb {",
    "  driver = passwd-file",
    `  args = ${join(o.dir, "users")}`,
    "}",
    "userdb {",
    "  driver = passwd-file",
    `  args = ${join(o.dir, "users")}`,
    "}",
    "protocol imap {",
    // The default, 10, would refuse the benchmark's sessions of one user from one address.
    `  mail_max_userip_connections = ${o.sessions + 100}`,
    "}",
    "service imap-login {",
    "  inet_listener imap {",
    "    address = 127.0.0.1",
    `    port = ${o.port}`,
    "  }",
    "  inet_listener imaps {",
    "    port = 0",
    "  }",
    "}",
    "service imap {",
    `  process_limit = ${o.sessions + 100}`,
    "}",
    "",
  ].join("\n");
}

/** Starts `dovecot -c DIR/dovecot.conf -F` and waits until it accepts connections. */
export async function startDovecot(o: DovecotOptions): Promise<DovecotInstance> {
  const mailUser = userIds(MAIL_USER)!;
  for (const d of [o.dir, join(o.dir, "state"), o.mail]) mkdirSync(d, { recursive: true });
  // mkdtemp makes 0700 directories: the login and mail users must reach the sockets and the mail.
  chmodSync(o.dir, 0o755);
  chownSync(o.mail, mailUser.uid, mailUser.gid);
  const conf = join(o.dir, "dovecot.conf");
  writeFileSync(conf, dovecotConf(o));
  // Read by the auth process, which runs as the internal user.
  const users = join(o.dir, "users");
  writeFileSync(users, o.users.join("\n") + "\n", { mode: 0o600 });
  const internal = userIds(INTERNAL_USER)!;
  chownSync(users, internal.uid, internal.gid);
  const log = join(o.dir, "dovecot.log");
  const logTail = (lines = 20) =>
    existsSync(log) ? readFileSync(log, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";

  // The master needs a descriptor or two per child; the shell raises the soft limit to the hard one.
  const proc = Bun.spawn(["sh", "-c", 'ulimit -n "$(ulimit -Hn)"; exec dovecot -c "$1" -F', "sh", conf], {
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output = (output + decoder.decode(chunk, { stream: true })).slice(-4000);
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  const ended = () => proc.exitCode !== null || proc.signalCode !== null;
  await waitFor(
    async () => {
      if (ended()) throw new Error(`dovecot exited (${proc.exitCode}) at start:\n${output}\n${logTail()}`);
      return await accepts(o.port);
    },
    15_000,
    () => `${output}\n${logTail()}`,
  );

  let stopped = false;
  return {
    port: o.port,
    pid: proc.pid,
    conf,
    pids: () => (ended() ? [] : processTree(proc.pid)),
    logTail,
    complaints: () =>
      existsSync(log)
        ? readFileSync(log, "utf8").split("\n").filter((l) => /: (Warning|Error|Fatal|Panic): /.test(l))
        : [],
    async stop() {
      if (stopped) return;
      stopped = true;
      if (ended()) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

/** `doveadm -c CONF stop`, for an exit handler that cannot wait. */
export function stopDovecotSync(conf: string): void {
  if (existsSync(conf)) Bun.spawnSync(["doveadm", "-c", conf, "stop"], { stdout: "ignore", stderr: "ignore" });
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
