CREATE TABLE `sieve_scripts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	`content` text NOT NULL,
	`active` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sieve_scripts_account_name` ON `sieve_scripts` (`account_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `sieve_scripts_account_active` ON `sieve_scripts` (`account_id`) WHERE active = 1;