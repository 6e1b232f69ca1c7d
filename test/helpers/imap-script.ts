/**
 * A scripted IMAP session for protocol tests: each command gets a fresh tag and returns every
 * line up to its tagged completion, so a test can assert the exact responses.
 */
import { LineClient } from "./line-client.ts";

export interface ImapScript {
  /** Sends `command` (without tag) and returns the untagged lines and the completion (tag stripped). */
  run(command: string): Promise<{ untagged: string[]; done: string }>;
  /** Sends a command with one literal: `before {n}` then the bytes then `after`. */
  runLiteral(before: string, literal: string, after?: string): Promise<{ untagged: string[]; done: string }>;
  /** The connection, for lines sent without a command (IDLE, other sessions' changes). */
  raw: LineClient;
  close(): Promise<void>;
}

export async function imapScript(port: number, user: string, password: string): Promise<ImapScript> {
  const raw = await LineClient.connect(port, { tls: true });
  await raw.readLine();
  let n = 0;
  const collect = async (tag: string) => {
    const lines = await raw.readUntil((l) => l.startsWith(`${tag} `));
    return { untagged: lines.slice(0, -1), done: lines.at(-1)!.slice(tag.length + 1) };
  };
  const script: ImapScript = {
    raw,
    async run(command) {
      const tag = `t${++n}`;
      await raw.line(`${tag} ${command}`);
      return collect(tag);
    },
    async runLiteral(before, literal, after = "") {
      const tag = `t${++n}`;
      await raw.line(`${tag} ${before} {${new TextEncoder().encode(literal).length}+}`);
      await raw.send(`${literal}${after}\r\n`);
      return collect(tag);
    },
    async close() {
      await raw.line("z LOGOUT");
      await raw.readUntil((l) => l.startsWith("z ")).catch(() => []);
      raw.close();
    },
  };
  const login = await script.run(`LOGIN "${user}" "${password}"`);
  if (!login.done.startsWith("OK")) throw new Error(`LOGIN failed: ${login.done}`);
  return script;
}
