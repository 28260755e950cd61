-- Data is deleted only by an admin: orphans are reported, uninstalled apps keep their data
-- for a while, and the store gets an identity of its own (box makes it at its first start).

ALTER TABLE `App` MODIFY `installState` ENUM('pending_install', 'pending_configure', 'pending_uninstall', 'pending_start', 'pending_stop', 'pending_restart', 'pending_update', 'pending_restore', 'installed', 'error') NOT NULL;

CREATE TABLE `Orphan` (
    `id` VARCHAR(36) NOT NULL,
    `kind` VARCHAR(32) NOT NULL,
    `name` VARCHAR(255) NOT NULL,
    `appId` VARCHAR(36) NOT NULL,
    `state` VARCHAR(16) NOT NULL DEFAULT 'found',
    `taskId` VARCHAR(36) NULL,
    `firstSeenAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `lastSeenAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `Orphan_kind_name_key`(`kind`, `name`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `UninstalledApp` (
    `id` VARCHAR(36) NOT NULL,
    `manifestId` VARCHAR(128) NOT NULL,
    `title` VARCHAR(255) NOT NULL,
    `version` VARCHAR(64) NOT NULL,
    `subdomain` VARCHAR(63) NOT NULL,
    `domain` VARCHAR(253) NOT NULL,
    `snapshot` JSON NOT NULL,
    `state` VARCHAR(16) NOT NULL DEFAULT 'kept',
    `uninstalledAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `purgeAfter` DATETIME(3) NOT NULL,

    INDEX `UninstalledApp_purgeAfter_idx`(`purgeAfter`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- A database that already served a Hearth (it has users or apps) labelled its Docker objects
-- with a hash of its URL: box recognises that label too when it makes the store's identity.
-- A fresh database has neither, so it never takes objects labelled that way for its own.
INSERT INTO `Setting` (`key`, `value`, `updatedAt`)
SELECT 'store.legacyOwner', 'true', UTC_TIMESTAMP(3) FROM DUAL
WHERE EXISTS (SELECT 1 FROM `User`) OR EXISTS (SELECT 1 FROM `App`);
