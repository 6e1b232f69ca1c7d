ALTER TABLE `accounts` ADD `admin` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `admin` integer DEFAULT false NOT NULL;