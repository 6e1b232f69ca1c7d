CREATE TABLE `email_submissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`identity_id` integer NOT NULL,
	`email_id` integer NOT NULL,
	`thread_id` text NOT NULL,
	`envelope` text NOT NULL,
	`send_at` integer NOT NULL,
	`undo_status` text DEFAULT 'final' NOT NULL,
	`delivery_status` text NOT NULL,
	`queue_id` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `email_submissions_account` ON `email_submissions` (`account_id`);--> statement-breakpoint
CREATE INDEX `email_submissions_queue` ON `email_submissions` (`queue_id`);--> statement-breakpoint
CREATE TABLE `identities` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`email` text NOT NULL,
	`reply_to` text,
	`bcc` text,
	`text_signature` text DEFAULT '' NOT NULL,
	`html_signature` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `identities_account` ON `identities` (`account_id`);--> statement-breakpoint
CREATE TABLE `vacation_responses` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`is_enabled` integer DEFAULT false NOT NULL,
	`from_date` integer,
	`to_date` integer,
	`subject` text,
	`text_body` text,
	`html_body` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `sort_order` integer;