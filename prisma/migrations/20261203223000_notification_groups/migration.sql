-- Notifications grouped by cause: a Notification is one group (kind + cause, e.g. the
-- failing certificates of one domain), its items are the subjects inside it (one per name,
-- app, …) with the admin-readable message and the raw error apart; read state per admin.
-- `raisedAt` moves when the group opens, re-opens or gets a new item (unread again);
-- `emailedAt` is when box last mailed it (the digest rule, apps/box/src/notifications).
ALTER TABLE `Notification` ADD COLUMN `kind` VARCHAR(32) NOT NULL DEFAULT 'other',
    ADD COLUMN `link` VARCHAR(512) NOT NULL DEFAULT '',
    ADD COLUMN `raisedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    ADD COLUMN `emailedAt` DATETIME(3) NULL;

CREATE INDEX `Notification_kind_dismissedAt_idx` ON `Notification`(`kind`, `dismissedAt`);

CREATE TABLE `NotificationItem` (
    `id` VARCHAR(36) NOT NULL,
    `notificationId` VARCHAR(36) NOT NULL,
    `subject` VARCHAR(255) NOT NULL,
    `label` VARCHAR(255) NOT NULL,
    `message` TEXT NOT NULL,
    `details` TEXT NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `closedAt` DATETIME(3) NULL,

    INDEX `NotificationItem_subject_closedAt_idx`(`subject`, `closedAt`),
    UNIQUE INDEX `NotificationItem_notificationId_subject_key`(`notificationId`, `subject`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `NotificationRead` (
    `notificationId` VARCHAR(36) NOT NULL,
    `userId` VARCHAR(36) NOT NULL,
    `readAt` DATETIME(3) NOT NULL,

    INDEX `NotificationRead_userId_idx`(`userId`),
    PRIMARY KEY (`notificationId`, `userId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `NotificationItem` ADD CONSTRAINT `NotificationItem_notificationId_fkey` FOREIGN KEY (`notificationId`) REFERENCES `Notification`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `NotificationRead` ADD CONSTRAINT `NotificationRead_notificationId_fkey` FOREIGN KEY (`notificationId`) REFERENCES `Notification`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- the per-certificate notifications before groups: closed; box raises the grouped form on
-- the next failure
UPDATE `Notification` SET `dismissedAt` = CURRENT_TIMESTAMP(3), `dismissedBy` = 'system' WHERE `key` LIKE 'certificate:%' AND `dismissedAt` IS NULL;
UPDATE `Notification` SET `kind` = 'orphans' WHERE `key` = 'orphans';
