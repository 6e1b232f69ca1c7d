CREATE TABLE `sieve_vacation_replies` (
	`account_id` integer NOT NULL,
	`handle` text NOT NULL,
	`sender` text NOT NULL,
	`sent_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `handle`, `sender`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
