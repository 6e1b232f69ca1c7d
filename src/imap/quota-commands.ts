/**
 * QUOTA (RFC 9208): one quota root per account, named "", holding every mailbox, with the STORAGE
 * resource in units of 1024 octets — the quota Postern enforces on APPEND and delivery. Limits are
 * set by the administrator (`quota` over REST, `--quota`), so SETQUOTA is refused.
 */
import type { ImapCommand } from "./commands.ts";
import { type Completion, findMailbox, type HandlerContext, no, ok, utf8 } from "./context.ts";
import { mailboxToWire } from "./mailbox-name.ts";
import { imapString } from "./response.ts";

type Cmd<N extends ImapCommand["name"]> = ImapCommand & { name: N };

/** The QUOTA response for the account's root, or null when it has no quota. */
async function quotaLine(ctx: HandlerContext): Promise<string | null> {
  const { limit, used } = await ctx.backend.quota(ctx.account);
  if (limit === null) return null;
  // RFC 9208 §5.1: STORAGE in units of 1024 octets, usage rounded up.
  return `* QUOTA "" (STORAGE ${Math.ceil(used / 1024)} ${Math.floor(limit / 1024)})\r\n`;
}

export async function getQuota(ctx: HandlerContext, cmd: Cmd<"GETQUOTA">): Promise<Completion> {
  const line = cmd.root === "" ? await quotaLine(ctx) : null;
  if (!line) return no("No such quota root", "NONEXISTENT");
  ctx.out.push(line);
  return ok("GETQUOTA completed");
}

export async function getQuotaRoot(ctx: HandlerContext, cmd: Cmd<"GETQUOTAROOT">): Promise<Completion> {
  const mailbox = await findMailbox(ctx, cmd.mailbox);
  if (!mailbox) return no("No such mailbox", "NONEXISTENT");
  const line = await quotaLine(ctx);
  const name = imapString(mailboxToWire(mailbox.name, utf8(ctx)), utf8(ctx));
  // RFC 9208 §4.3: a mailbox under no quota has no roots.
  ctx.out.push(`* QUOTAROOT ${name}${line ? ' ""' : ""}\r\n`);
  if (line) ctx.out.push(line);
  return ok("GETQUOTAROOT completed");
}

export function setQuota(): Completion {
  return no("Quotas are set by the administrator", "NOPERM");
}
