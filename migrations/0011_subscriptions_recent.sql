CREATE TABLE `subscriptions` (
	`account_id` integer NOT NULL,
	`name` text NOT NULL,
	PRIMARY KEY(`account_id`, `name`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `mailboxes` ADD `recent_uid` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Mail stored by earlier builds is not recent to anyone.
UPDATE `mailboxes` SET `recent_uid` = `uid_next` - 1;--> statement-breakpoint
-- Subscriptions move from the mailboxes' flag to names of their own (RFC 9051 §6.3.7).
INSERT INTO `subscriptions` (`account_id`, `name`) SELECT `account_id`, `name` FROM `mailboxes` WHERE `subscribed`;--> statement-breakpoint
-- mailboxes.subscribed mirrors the subscriptions (JMAP's isSubscribed reads and writes it). A new
-- mailbox is subscribed only when its name already is: CREATE does not subscribe.
CREATE TRIGGER `mailboxes_subscribed_insert` AFTER INSERT ON `mailboxes` BEGIN
	UPDATE `mailboxes` SET `subscribed` = EXISTS (SELECT 1 FROM `subscriptions` `s`
		WHERE `s`.`account_id` = NEW.`account_id` AND `s`.`name` = NEW.`name`)
	WHERE `id` = NEW.`id`;
END;--> statement-breakpoint
-- JMAP's Mailbox/set isSubscribed writes the flag; the name's subscription follows.
CREATE TRIGGER `mailboxes_subscribed_update` AFTER UPDATE OF `subscribed` ON `mailboxes`
WHEN NEW.`subscribed` IS NOT OLD.`subscribed` BEGIN
	INSERT OR IGNORE INTO `subscriptions` (`account_id`, `name`) SELECT NEW.`account_id`, NEW.`name` WHERE NEW.`subscribed`;
	DELETE FROM `subscriptions` WHERE NOT NEW.`subscribed` AND `account_id` = NEW.`account_id` AND `name` = NEW.`name`;
END;--> statement-breakpoint
-- A renamed mailbox takes its subscription along, and is subscribed when its new name already was.
CREATE TRIGGER `mailboxes_subscribed_rename` AFTER UPDATE OF `name` ON `mailboxes`
WHEN NEW.`name` IS NOT OLD.`name` BEGIN
	DELETE FROM `subscriptions` WHERE OLD.`subscribed` AND `account_id` = OLD.`account_id` AND `name` = OLD.`name`;
	INSERT OR IGNORE INTO `subscriptions` (`account_id`, `name`) SELECT NEW.`account_id`, NEW.`name` WHERE OLD.`subscribed`;
	UPDATE `mailboxes` SET `subscribed` = 1 WHERE `id` = NEW.`id` AND NOT `subscribed` AND EXISTS (SELECT 1 FROM
		`subscriptions` `s` WHERE `s`.`account_id` = NEW.`account_id` AND `s`.`name` = NEW.`name`);
END;--> statement-breakpoint
CREATE TRIGGER `subscriptions_insert` AFTER INSERT ON `subscriptions` BEGIN
	UPDATE `mailboxes` SET `subscribed` = 1 WHERE `account_id` = NEW.`account_id` AND `name` = NEW.`name` AND NOT `subscribed`;
END;--> statement-breakpoint
CREATE TRIGGER `subscriptions_delete` AFTER DELETE ON `subscriptions` BEGIN
	UPDATE `mailboxes` SET `subscribed` = 0 WHERE `account_id` = OLD.`account_id` AND `name` = OLD.`name` AND `subscribed`;
END;
