CREATE TABLE `greylist` (
	`triplet` text PRIMARY KEY NOT NULL,
	`first_seen` integer NOT NULL,
	`passed_at` integer,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `greylist_last_seen` ON `greylist` (`last_seen`);