ALTER TABLE `aliases` ADD `disabled` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `aliases` ADD `owner_id` integer REFERENCES accounts(id) ON DELETE cascade;--> statement-breakpoint
ALTER TABLE `aliases` ADD `forwarded` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `aliases` ADD `refused` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `aliases` ADD `last_used_at` integer;--> statement-breakpoint
ALTER TABLE `domains` ADD `owner_aliases` integer DEFAULT false NOT NULL;