/**
 * One queued message as operators see it, in `postern queue` and in the REST API: the same
 * fields in both, so a script can move from one to the other.
 */
import type { QueueListing } from "../store/queue.ts";

export interface QueueRecipientView {
  recipient: string;
  /** `deferred` is a pending recipient that has been tried; `queued` one that has not. */
  status: "queued" | "deferred" | "held" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: string;
  lastReply: string | null;
}

export interface QueueMessageView {
  id: number;
  sender: string;
  size: number;
  createdAt: string;
  recipients: QueueRecipientView[];
}

export function queueView(row: QueueListing): QueueMessageView {
  return {
    id: row.id,
    sender: row.sender,
    size: row.size,
    createdAt: row.createdAt.toISOString(),
    recipients: row.recipients.map((r) => ({
      recipient: r.recipient,
      status: r.status === "pending" ? (r.attempts > 0 ? "deferred" : "queued") : r.status,
      attempts: r.attempts,
      nextAttemptAt: r.nextAttemptAt.toISOString(),
      lastReply: r.lastReply,
    })),
  };
}

/**
 * The text of `postern queue list`, in the shape of Postfix's `mailq`: a line per message (id,
 * size, arrival, sender) and an indented line per recipient still in the queue, with its state
 * and the last reply.
 */
export function formatQueue(messages: readonly QueueMessageView[]): string {
  if (!messages.length) return "Mail queue is empty";
  const lines: string[] = [];
  for (const m of messages) {
    lines.push(`${m.id}\t${m.size}\t${m.createdAt}\t<${m.sender}>`);
    for (const r of m.recipients) {
      const next = r.status === "queued" || r.status === "deferred" ? `\tnext=${r.nextAttemptAt}` : "";
      const reply = r.lastReply ? `\t(${r.lastReply})` : "";
      lines.push(`\t<${r.recipient}>\t${r.status}\tattempts=${r.attempts}${next}${reply}`);
    }
  }
  const total = messages.reduce((sum, m) => sum + m.size, 0);
  lines.push(`-- ${Math.ceil(total / 1024)} Kbytes in ${messages.length} message${messages.length === 1 ? "" : "s"}`);
  return lines.join("\n");
}
