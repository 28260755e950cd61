-- Backups (issue 12, first slice): the site config (one row, id "default"; the passphrase
-- and any site secret sealed with HEARTH_SECRET_KEY) and one row per backup. A Backup row
-- has no foreign key to App: backups outlive the app they were made of.
CREATE TABLE `BackupConfig` (
    `id` VARCHAR(16) NOT NULL,
    `siteType` VARCHAR(16) NOT NULL,
    `site` JSON NOT NULL,
    `siteSecretEnc` TEXT NULL,
    `passphraseEnc` TEXT NOT NULL,
    `schedule` VARCHAR(5) NOT NULL,
    `retention` JSON NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Backup` (
    `id` VARCHAR(36) NOT NULL,
    `type` VARCHAR(16) NOT NULL,
    `appId` VARCHAR(36) NULL,
    `manifestId` VARCHAR(255) NULL,
    `version` VARCHAR(64) NULL,
    `state` VARCHAR(16) NOT NULL,
    `site` VARCHAR(600) NOT NULL,
    `snapshotId` VARCHAR(64) NULL,
    `sizeBytes` BIGINT NULL,
    `fileCount` INTEGER NULL,
    `reason` TEXT NULL,
    `taskId` VARCHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `finishedAt` DATETIME(3) NULL,

    INDEX `Backup_appId_createdAt_idx`(`appId`, `createdAt`),
    INDEX `Backup_createdAt_idx`(`createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
