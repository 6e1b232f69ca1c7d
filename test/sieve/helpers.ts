/** Compiles and runs a script on a message written as lines (CRLF added), for the Sieve unit tests. */
import {
  compileSieve,
  messageView,
  runScript,
  type SieveEnvelope,
  type SieveEnvironment,
  type SieveLimits,
  type SieveResult,
  type ValidScript,
} from "../../src/sieve/index.ts";

export function compile(source: string): ValidScript {
  const r = compileSieve(source);
  if (!r.ok) throw new Error(`script did not compile: ${r.error.message}`);
  return r.script;
}

export function message(...lines: string[]): Uint8Array {
  return new TextEncoder().encode(lines.join("\r\n"));
}

export const DEFAULT_MESSAGE = message(
  "From: Jane Doe <jane@example.org>",
  "To: bob+lists@example.net, carol@example.com",
  "Subject: Hello World",
  "Date: Tue, 24 Nov 2026 10:00:00 +0100",
  "Message-ID: <hello@example.org>",
  "",
  "Hello Bob,",
  "this is the body.",
  "",
);

export function run(
  source: string,
  options: {
    raw?: Uint8Array;
    envelope?: Partial<SieveEnvelope>;
    env?: SieveEnvironment;
    limits?: Partial<SieveLimits>;
  } = {},
): SieveResult {
  const envelope = { from: "jane@example.org", to: "bob+lists@example.net", ...options.envelope };
  return runScript(compile(source), messageView(options.raw ?? DEFAULT_MESSAGE, envelope), options.env, options.limits);
}

/** Short forms of the actions: "keep", "keep [\\Seen]", "fileinto A", "redirect x@y", "discard", ... */
export function summary(result: SieveResult): string[] {
  return result.actions.map((a) => {
    switch (a.type) {
      case "keep":
        return `${a.implicit ? "implicit " : ""}keep${a.flags.length ? ` [${a.flags.join(" ")}]` : ""}`;
      case "fileinto":
        return `fileinto ${a.mailbox}${a.flags.length ? ` [${a.flags.join(" ")}]` : ""}${a.copy ? " :copy" : ""}${
          a.create ? " :create" : ""
        }`;
      case "redirect":
        return `redirect ${a.address}${a.copy ? " :copy" : ""}`;
      case "reject":
        return `${a.extended ? "ereject" : "reject"} ${a.reason}`;
      case "vacation":
        return `vacation ${a.seconds}s ${a.reason}`;
      case "addheader":
        return `addheader ${a.name}: ${a.value}`;
      case "deleteheader":
        return `deleteheader ${a.name}`;
      default:
        return a.type;
    }
  });
}
