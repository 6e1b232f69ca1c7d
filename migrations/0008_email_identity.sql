CREATE TABLE `emails` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`blob_hash` text NOT NULL,
	`size` integer NOT NULL,
	`received_at` integer NOT NULL,
	`summary` text NOT NULL,
	`summary_version` integer DEFAULT 0 NOT NULL,
	`message_id` text,
	`thread_id` text NOT NULL,
	`subject` text,
	`sent_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`blob_hash`) REFERENCES `blobs`(`hash`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `emails_account_received` ON `emails` (`account_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `emails_account_message_id` ON `emails` (`account_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `emails_account_thread` ON `emails` (`account_id`,`thread_id`);--> statement-breakpoint
CREATE INDEX `emails_blob` ON `emails` (`blob_hash`);--> statement-breakpoint
CREATE INDEX `emails_summary_version` ON `emails` (`summary_version`);--> statement-breakpoint
INSERT INTO `emails`("id", "account_id", "blob_hash", "size", "received_at", "summary", "summary_version", "message_id", "thread_id", "subject", "sent_at") SELECT m."id", b."account_id", m."blob_hash", m."size", m."internal_date", m."summary", 0, m."message_id", coalesce(m."thread_id", 'M' || m."id"), m."subject", m."sent_at" FROM `messages` m JOIN `mailboxes` b ON b."id" = m."mailbox_id";--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mailbox_id` integer NOT NULL,
	`email_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	`size` integer NOT NULL,
	`flags` text DEFAULT '[]' NOT NULL,
	`internal_date` integer NOT NULL,
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`email_id`) REFERENCES `emails`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_messages`("id", "mailbox_id", "email_id", "uid", "modseq", "size", "flags", "internal_date") SELECT "id", "mailbox_id", "id", "uid", "modseq", "size", "flags", "internal_date" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `messages_mailbox_uid` ON `messages` (`mailbox_id`,`uid`);--> statement-breakpoint
CREATE INDEX `messages_mailbox_modseq` ON `messages` (`mailbox_id`,`modseq`);--> statement-breakpoint
CREATE INDEX `messages_mailbox_date` ON `messages` (`mailbox_id`,`internal_date`);--> statement-breakpoint
CREATE INDEX `messages_email` ON `messages` (`email_id`);--> statement-breakpoint
ALTER TABLE `changes` ADD `mailbox_op` text;--> statement-breakpoint
UPDATE `changes` SET `mailbox_op` = `op` WHERE `type` = 'email';
