-- Accounts and sessions (issue 10):
--  * Event.sourceNet: the network a request came from (an IPv4 address, an IPv6 /64), which
--    the login throttle counts by; indexes for the per-network and the per-account counts.
--  * User.totpSecret holds the sealed secret (longer than the base32 one) and
--    User.totpLastStep the last accepted TOTP time step, moved from the Setting rows
--    `totp.last_step.<userId>` (a code is accepted once, by a conditional UPDATE).

ALTER TABLE `Event` ADD COLUMN `sourceNet` VARCHAR(45) NOT NULL DEFAULT '';
UPDATE `Event` SET `sourceNet` = `sourceIp` WHERE `sourceIp` NOT LIKE '%:%';
CREATE INDEX `Event_sourceNet_action_createdAt_idx` ON `Event`(`sourceNet`, `action`, `createdAt`);
CREATE INDEX `Event_target_action_createdAt_idx` ON `Event`(`target`, `action`, `createdAt`);

ALTER TABLE `User` MODIFY `totpSecret` VARCHAR(255) NULL;
ALTER TABLE `User` ADD COLUMN `totpLastStep` INTEGER NULL;
UPDATE `User` u JOIN `Setting` s ON s.`key` = CONCAT('totp.last_step.', u.`id`)
  SET u.`totpLastStep` = CAST(s.`value` AS SIGNED);
DELETE FROM `Setting` WHERE `key` LIKE 'totp.last\_step.%';
