-- Notifications: what admins should see and act on, shown until dismissed.

CREATE TABLE `Notification` (
    `id` VARCHAR(36) NOT NULL,
    `key` VARCHAR(255) NOT NULL,
    `level` VARCHAR(16) NOT NULL,
    `title` VARCHAR(255) NOT NULL,
    `message` TEXT NOT NULL,
    `target` VARCHAR(255) NOT NULL DEFAULT '',
    `count` INTEGER NOT NULL DEFAULT 1,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `dismissedAt` DATETIME(3) NULL,
    `dismissedBy` VARCHAR(36) NULL,

    INDEX `Notification_dismissedAt_updatedAt_idx`(`dismissedAt`, `updatedAt`),
    INDEX `Notification_key_dismissedAt_idx`(`key`, `dismissedAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
