CREATE TABLE `maildrop_locks` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `queue_recipients` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `queue_recipients` ADD `lease_until` integer;--> statement-breakpoint
-- A new membership moves its mailbox's UIDNEXT and HIGHESTMODSEQ past its own UID and MODSEQ, and
-- logs its change (id = its MODSEQ), in the statement that inserts it (store/append.ts), so a
-- delivery needs no separate counter update or change-log insert. For JMAP the email is "created"
-- when this is its only membership and "updated" when it joined another mailbox (a copy, a move,
-- Email/set mailboxIds); for IMAP the membership is "created" in this mailbox.
CREATE TRIGGER `messages_counters` AFTER INSERT ON `messages` BEGIN
	UPDATE `mailboxes` SET `uid_next` = max(`uid_next`, NEW.`uid` + 1), `highest_modseq` = max(`highest_modseq`, NEW.`modseq`)
	WHERE `id` = NEW.`mailbox_id`;
	INSERT INTO `changes` (`id`, `account_id`, `mailbox_id`, `type`, `object_id`, `uid`, `thread_id`, `op`, `mailbox_op`)
	SELECT NEW.`modseq`, `e`.`account_id`, NEW.`mailbox_id`, 'email', NEW.`email_id`, NEW.`uid`, `e`.`thread_id`,
		CASE WHEN EXISTS (SELECT 1 FROM `messages` `o` WHERE `o`.`email_id` = NEW.`email_id` AND `o`.`id` <> NEW.`id`)
			THEN 'updated' ELSE 'created' END,
		'created'
	FROM `emails` `e` WHERE `e`.`id` = NEW.`email_id`;
END;
