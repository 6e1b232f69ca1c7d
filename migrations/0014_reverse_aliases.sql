CREATE TABLE `reverse_aliases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token` text NOT NULL,
	`domain_id` integer NOT NULL,
	`alias` text NOT NULL,
	`correspondent` text NOT NULL,
	`last_used_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reverse_aliases_token_unique` ON `reverse_aliases` (`token`);--> statement-breakpoint
ALTER TABLE `domains` ADD `reverse_aliases` integer DEFAULT false NOT NULL;