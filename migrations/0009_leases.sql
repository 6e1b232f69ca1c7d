CREATE TABLE `maildrop_locks` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `queue_recipients` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `queue_recipients` ADD `lease_until` integer;--> statement-breakpoint
-- A new membership moves its mailbox's UIDNEXT and HIGHESTMODSEQ past its own UID and MODSEQ, in
-- the statement that inserts it (store/append.ts), so a delivery needs no separate counter update.
CREATE TRIGGER `messages_counters` AFTER INSERT ON `messages` BEGIN
	UPDATE `mailboxes` SET `uid_next` = max(`uid_next`, NEW.`uid` + 1), `highest_modseq` = max(`highest_modseq`, NEW.`modseq`)
	WHERE `id` = NEW.`mailbox_id`;
END;
