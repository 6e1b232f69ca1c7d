CREATE TABLE `maildrop_locks` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `queue_recipients` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `queue_recipients` ADD `lease_until` integer;