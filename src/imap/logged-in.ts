/**
 * The commands of the authenticated and selected states (RFC 9051 §6.3, §6.4), each handed to its
 * handler with the session's context. The state table (`state.ts`) has already refused commands
 * the state does not allow; what the session itself owns (its state, TLS, compression) comes in
 * as `LoggedInSession`.
 */
import type { ImapCommand } from "./commands.ts";
import { bad, type Completion, type HandlerContext, no, ok, refresh } from "./context.ts";
import * as mailbox from "./mailbox-commands.ts";
import * as message from "./message-commands.ts";
import * as notifying from "./notify-commands.ts";
import * as quota from "./quota-commands.ts";
import { cancelUpdate } from "./search-context.ts";
import * as sorting from "./sort-commands.ts";
import { refusal, type StateName } from "./state.ts";

/** RFC 9051 §6.3.1 and the extensions Postern lets a client ENABLE. */
const ENABLEABLE = new Set(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT", "IMAP4REV2"]);

export interface LoggedInSession {
  /** Sends what the context holds so far (FETCH streams large results). */
  flush(out: Array<string | Uint8Array>): Promise<void>;
  /** After a command that may select or unselect: the session takes the state the view says. */
  settle(ctx: HandlerContext): void;
  /** COMPRESS=DEFLATE is already active. */
  compressed: boolean;
  state: StateName;
}

/** RFC 9051 §6.3 and §6.4: the authenticated and selected states, with the handler context. */
export async function loggedIn(cmd: ImapCommand, ctx: HandlerContext, session: LoggedInSession): Promise<Completion> {
  switch (cmd.name) {
    case "CHECK":
      await refresh(ctx, true);
      return ok("CHECK completed");
    case "ENABLE": {
      const enabled = cmd.capabilities.filter((c) => ENABLEABLE.has(c));
      for (const c of enabled) ctx.enabled.add(c);
      if (enabled.includes("QRESYNC")) ctx.enabled.add("CONDSTORE");
      ctx.out.push(`* ENABLED${enabled.map((c) => ` ${c}`).join("")}\r\n`);
      return ok("ENABLE completed");
    }
    case "NOTIFY":
      return notifying.notify(ctx, cmd);
    case "COMPRESS":
      // RFC 4978 §3: DEFLATE is the one mechanism; a second COMPRESS is refused.
      if (cmd.mechanism !== "DEFLATE") return bad(`Unknown compression mechanism ${cmd.mechanism}`);
      return session.compressed ? no("DEFLATE is already active", "COMPRESSIONACTIVE") : ok("");
    case "NAMESPACE":
      ctx.out.push('* NAMESPACE (("" "/")) NIL NIL\r\n');
      return ok("NAMESPACE completed");
    case "IDLE":
      await refresh(ctx, true);
      return ok("idling");
    case "SELECT":
    case "EXAMINE": {
      const result = await mailbox.select(ctx, cmd);
      session.settle(ctx);
      return result;
    }
    case "CLOSE": {
      const result = await message.expunge(ctx, null);
      ctx.view = null;
      session.settle(ctx);
      return result;
    }
    case "UNSELECT":
      ctx.view = null;
      session.settle(ctx);
      return ok("UNSELECT completed");
    case "CREATE":
      return mailbox.create(ctx, cmd);
    case "DELETE": {
      const result = await mailbox.remove(ctx, cmd);
      session.settle(ctx);
      return result;
    }
    case "RENAME":
      return mailbox.rename(ctx, cmd);
    case "SUBSCRIBE":
    case "UNSUBSCRIBE":
      return mailbox.subscribe(ctx, cmd);
    case "LIST":
      return mailbox.list(ctx, cmd);
    case "LSUB":
      return mailbox.lsub(ctx, cmd);
    case "STATUS":
      return mailbox.status(ctx, cmd);
    case "APPEND":
      return mailbox.append(ctx, cmd);
    case "FETCH":
      return message.fetch(ctx, cmd, async () => {
        await session.flush(ctx.out);
        ctx.out = [];
      });
    case "STORE":
      return message.store(ctx, cmd);
    case "SEARCH":
      return message.search(ctx, cmd);
    case "SORT":
      return sorting.sort(ctx, cmd);
    case "CANCELUPDATE":
      return cancelUpdate(ctx, cmd.tags);
    case "THREAD":
      return sorting.thread(ctx, cmd);
    case "COPY":
    case "MOVE":
      return message.copyOrMove(ctx, cmd);
    case "EXPUNGE":
      return message.expunge(ctx, cmd);
    case "GETQUOTA":
      return quota.getQuota(ctx, cmd);
    case "GETQUOTAROOT":
      return quota.getQuotaRoot(ctx, cmd);
    case "SETQUOTA":
      return quota.setQuota();
    default:
      // The state table let through only the commands above.
      return bad(refusal(session.state, cmd.name));
  }
}
