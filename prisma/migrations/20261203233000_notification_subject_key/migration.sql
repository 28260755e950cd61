-- A notification item's subject (a certificate's names key can be up to 768 characters) is
-- kept whole as TEXT; uniqueness and lookups go through `subjectKey`, the SHA-256 hex of the
-- full subject (packages/db repos/notifications.ts subjectKeyOf), so long subjects are
-- neither cut (the sweep found nothing under the cut key and closed still-failing items) nor
-- merged (two subjects sharing their first 255 characters were one item).
ALTER TABLE `NotificationItem` ADD COLUMN `subjectKey` CHAR(64) NULL;

-- existing rows: the hash of what was stored (a subject cut before this migration keeps its
-- cut text; the sweep closes it and the next raise makes the item anew with the full subject)
UPDATE `NotificationItem` SET `subjectKey` = SHA2(`subject`, 256);

ALTER TABLE `NotificationItem` MODIFY `subjectKey` CHAR(64) NOT NULL;

-- the new indexes first: the foreign key on notificationId always has an index to use
CREATE UNIQUE INDEX `NotificationItem_notificationId_subjectKey_key` ON `NotificationItem`(`notificationId`, `subjectKey`);
CREATE INDEX `NotificationItem_subjectKey_closedAt_idx` ON `NotificationItem`(`subjectKey`, `closedAt`);
DROP INDEX `NotificationItem_notificationId_subject_key` ON `NotificationItem`;
DROP INDEX `NotificationItem_subject_closedAt_idx` ON `NotificationItem`;

-- no index holds the subject any more: it can grow
ALTER TABLE `NotificationItem` MODIFY `subject` TEXT NOT NULL;
