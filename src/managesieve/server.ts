/**
 * The ManageSieve server loop (RFC 5804): the only ManageSieve code that does I/O. Lines and literals go through the
 * `CommandReader`, commands to the `ManageSieveSession`.
 */
import type { Connection } from "../connection.ts";
import type { ManageSieveBackend } from "./backend.ts";
import { CommandReader, PRE_LOGIN_LIMITS } from "./reader.ts";
import { response } from "./response.ts";
import { ManageSieveSession, type ManageSieveSessionOptions, type ManageSieveStep } from "./session.ts";

export interface ManageSieveServerOptions extends Omit<ManageSieveSessionOptions, "remoteAddress" | "tls"> {
  maxLineLength: number;
  /** Autologout before authentication. */
  loginTimeoutMs: number;
  /** Autologout once authenticated. */
  idleTimeoutMs: number;
}

export function manageSieveHandler(options: ManageSieveServerOptions, backend: ManageSieveBackend) {
  // Once logged in a literal may carry a whole script; the line around it is small.
  const loggedInLimits = {
    maxLiteralSize: backend.limits.maxSize,
    maxCommandSize: backend.limits.maxSize + 64 * 1024,
  };
  return async (conn: Connection): Promise<void> => {
    const session = new ManageSieveSession({ ...options, remoteAddress: conn.remoteAddress, tls: conn.tls }, backend);
    const reader = new CommandReader(PRE_LOGIN_LIMITS);
    conn.setIdleTimeout(options.loginTimeoutMs);
    await conn.write(session.greeting());
    for (;;) {
      const line = await conn.readLine(options.maxLineLength);
      if (line === null) {
        if (conn.interrupted && !conn.closed) await conn.write(session.interrupted(conn.interrupted).output);
        return;
      }
      let step: ManageSieveStep;
      if (line.kind === "too-long") {
        reader.abandon();
        step = session.refuse("Line too long");
      } else {
        const read = reader.pushLine(line.bytes);
        if (read === null) continue;
        if (read.kind === "literal") {
          const bytes = await conn.readBytes(read.size);
          if (bytes === null) return;
          reader.pushLiteral(bytes);
          continue;
        }
        if (read.kind === "error") {
          if (read.discard > 0 && session.state !== "authenticated") {
            // A large literal before login is not read even to skip it.
            await conn.write(response("BYE", "Literal too large before login"));
            return;
          }
          if (read.discard > 0 && !(await conn.skipBytes(read.discard))) return;
          // The lines and literals that follow a refused command are dropped without a reply.
          if (!read.message) continue;
          step = session.refuse(read.message, read.tooBig);
        } else step = await session.command(read.command);
      }
      await conn.write(step.output);
      reader.setLimits(session.state === "authenticated" ? loggedInLimits : PRE_LOGIN_LIMITS);
      conn.setIdleTimeout(session.state === "authenticated" ? options.idleTimeoutMs : options.loginTimeoutMs);
      if (step.action.kind === "close") return;
      if (step.action.kind === "starttls") {
        await conn.startTls();
        await conn.write(session.tlsStarted(conn.tls!));
      }
    }
  };
}
