-- At most one open notification group per key: `openKey` is the key while the group is open
-- and NULL once closed, under a unique index, so concurrent raises of one key serialise on it
-- (packages/db repos/notifications.ts raiseNotification) instead of making duplicate groups.
ALTER TABLE `Notification` ADD COLUMN `openKey` VARCHAR(255) NULL;

-- the newest open group of each key keeps it; older duplicates (made by the race) close
UPDATE `Notification` n
  JOIN (SELECT `key`, MAX(`id`) AS `id` FROM `Notification` o
        WHERE o.`dismissedAt` IS NULL
          AND o.`createdAt` = (SELECT MAX(i.`createdAt`) FROM `Notification` i WHERE i.`key` = o.`key` AND i.`dismissedAt` IS NULL)
        GROUP BY `key`) keep ON keep.`id` = n.`id`
  SET n.`openKey` = n.`key`;

UPDATE `Notification` SET `dismissedAt` = CURRENT_TIMESTAMP(3), `dismissedBy` = 'system'
  WHERE `dismissedAt` IS NULL AND `openKey` IS NULL;

CREATE UNIQUE INDEX `Notification_openKey_key` ON `Notification`(`openKey`);
