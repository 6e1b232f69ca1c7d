ALTER TABLE `accounts` ADD `uid_validity_last` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Accounts made by earlier builds start from the highest UIDVALIDITY their mailboxes have now.
UPDATE `accounts` SET `uid_validity_last` = coalesce((SELECT max(`uid_validity`) FROM `mailboxes` WHERE `mailboxes`.`account_id` = `accounts`.`id`), 0);
