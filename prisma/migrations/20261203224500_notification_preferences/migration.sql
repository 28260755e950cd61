-- Which notification kinds a user gets by email (issue 14); no row: every kind. Deleted with the user.
CREATE TABLE `NotificationPreference` (
    `userId` VARCHAR(36) NOT NULL,
    `emailKinds` JSON NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`userId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `NotificationPreference` ADD CONSTRAINT `NotificationPreference_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
