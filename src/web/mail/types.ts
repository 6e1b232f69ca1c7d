/** The JMAP objects the webmail shows (RFC 8621), with only the properties it asks for. */
import type { IconName } from "../icons.ts";

export interface EmailAddress {
  name: string | null;
  email: string;
}

export interface Mailbox {
  id: string;
  name: string;
  parentId: string | null;
  role: string | null;
  sortOrder: number;
  totalEmails: number;
  unreadEmails: number;
}

export interface EmailSummary {
  id: string;
  threadId: string;
  mailboxIds: Record<string, boolean>;
  keywords: Record<string, boolean>;
  from: EmailAddress[] | null;
  to: EmailAddress[] | null;
  subject: string | null;
  preview: string;
  receivedAt: string;
  hasAttachment: boolean;
}

export interface BodyPart {
  partId: string | null;
  blobId: string | null;
  size: number;
  name: string | null;
  type: string;
  disposition: string | null;
}

export interface EmailFull extends EmailSummary {
  cc: EmailAddress[] | null;
  replyTo: EmailAddress[] | null;
  messageId: string[] | null;
  references: string[] | null;
  inReplyTo: string[] | null;
  sentAt: string | null;
  textBody: BodyPart[];
  htmlBody: BodyPart[];
  attachments: BodyPart[];
  bodyValues: Record<string, { value: string; isTruncated: boolean }>;
}

/** A file attached to a message being written: an uploaded blob, or one of a forwarded message's. */
export interface Attachment {
  blobId: string;
  name: string;
  type: string;
  size: number;
}

/** What the compose form starts with (a reply or a forward fills it in; a saved draft has its id). */
export interface Draft {
  to: string;
  cc: string;
  subject: string;
  text: string;
  inReplyTo?: string[] | null;
  references?: string[] | null;
  attachments?: Attachment[];
  /** The draft saved in Drafts that this form replaces when it saves again or sends. */
  draftId?: string;
}

export const formatAddress = (a: EmailAddress) => a.name ? `${a.name} <${a.email}>` : a.email;
export const formatAddresses = (list: EmailAddress[] | null | undefined) => (list ?? []).map(formatAddress).join(", ");
/** RFC 8621 §2: the inbox is "INBOX" to IMAP; people read "Inbox". */
export const mailboxName = (m: Mailbox) => m.role === "inbox" ? "Inbox" : m.name;

export const senderName = (list: EmailAddress[] | null | undefined) => {
  const first = list?.[0];
  return first ? first.name || first.email : "(no sender)";
};

/** Today: the time; this year: day and month; otherwise the date. */
export function shortDate(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }
  if (date.getFullYear() === now.getFullYear()) {
    return date.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  }
  return date.toLocaleDateString();
}

/** RFC 8621 §2: the roles the webmail names and orders first. */
export const ROLE_ORDER = ["inbox", "drafts", "sent", "archive", "junk", "trash"];
export const ROLE_ICONS: Record<string, IconName> = {
  inbox: "inbox",
  drafts: "drafts",
  sent: "sent",
  archive: "archive",
  junk: "junk",
  trash: "trash",
};
