-- Addons provisioned per app, with their credentials sealed.

CREATE TABLE `AppAddon` (
    `appId` VARCHAR(36) NOT NULL,
    `name` VARCHAR(32) NOT NULL,
    `credentialsEnc` TEXT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`appId`, `name`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `AppAddon` ADD CONSTRAINT `AppAddon_appId_fkey` FOREIGN KEY (`appId`) REFERENCES `App`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
