-- Foundation: users, sessions, API tokens, event log, tasks, settings.

CREATE TABLE `User` (
    `id` VARCHAR(36) NOT NULL,
    `username` VARCHAR(64) NOT NULL,
    `email` VARCHAR(254) NOT NULL,
    `displayName` VARCHAR(128) NOT NULL DEFAULT '',
    `role` ENUM('owner', 'admin', 'user') NOT NULL DEFAULT 'user',
    `passwordHash` VARCHAR(255) NOT NULL,
    `totpSecret` VARCHAR(64) NULL,
    `active` BOOLEAN NOT NULL DEFAULT true,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `lastLoginAt` DATETIME(3) NULL,

    UNIQUE INDEX `User_username_key`(`username`),
    UNIQUE INDEX `User_email_key`(`email`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Session` (
    `id` CHAR(64) NOT NULL,
    `userId` VARCHAR(36) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `lastSeenAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `expiresAt` DATETIME(3) NOT NULL,
    `sourceIp` VARCHAR(45) NOT NULL,
    `userAgent` VARCHAR(255) NOT NULL DEFAULT '',

    INDEX `Session_userId_idx`(`userId`),
    INDEX `Session_expiresAt_idx`(`expiresAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `ApiToken` (
    `id` VARCHAR(36) NOT NULL,
    `userId` VARCHAR(36) NOT NULL,
    `name` VARCHAR(128) NOT NULL,
    `scope` ENUM('read', 'read-write') NOT NULL,
    `secretHash` CHAR(64) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `expiresAt` DATETIME(3) NULL,
    `lastUsedAt` DATETIME(3) NULL,

    INDEX `ApiToken_userId_idx`(`userId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Event` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `action` VARCHAR(64) NOT NULL,
    `actorId` VARCHAR(36) NULL,
    `actorName` VARCHAR(64) NOT NULL DEFAULT '',
    `sourceIp` VARCHAR(45) NOT NULL DEFAULT '',
    `target` VARCHAR(255) NOT NULL DEFAULT '',
    `data` JSON NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `Event_action_createdAt_idx`(`action`, `createdAt`),
    INDEX `Event_createdAt_idx`(`createdAt`),
    INDEX `Event_sourceIp_action_createdAt_idx`(`sourceIp`, `action`, `createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Task` (
    `id` VARCHAR(36) NOT NULL,
    `type` VARCHAR(64) NOT NULL,
    `appId` VARCHAR(36) NULL,
    `exclusive` BOOLEAN NOT NULL DEFAULT false,
    `args` JSON NOT NULL,
    `state` ENUM('pending', 'running', 'succeeded', 'failed', 'cancelled') NOT NULL DEFAULT 'pending',
    `percent` INTEGER NOT NULL DEFAULT 0,
    `message` VARCHAR(512) NOT NULL DEFAULT '',
    `errorCode` VARCHAR(64) NULL,
    `errorMessage` TEXT NULL,
    `result` JSON NULL,
    `attempts` INTEGER NOT NULL DEFAULT 0,
    `maxAttempts` INTEGER NOT NULL DEFAULT 3,
    `leasedBy` VARCHAR(128) NULL,
    `leaseExpiresAt` DATETIME(3) NULL,
    `heartbeatAt` DATETIME(3) NULL,
    `createdBy` VARCHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `startedAt` DATETIME(3) NULL,
    `finishedAt` DATETIME(3) NULL,

    INDEX `Task_state_createdAt_idx`(`state`, `createdAt`),
    INDEX `Task_appId_state_idx`(`appId`, `state`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Lock` (
    `name` VARCHAR(64) NOT NULL,

    PRIMARY KEY (`name`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Setting` (
    `key` VARCHAR(128) NOT NULL,
    `value` JSON NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `Session` ADD CONSTRAINT `Session_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `ApiToken` ADD CONSTRAINT `ApiToken_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- Rows that later code locks with SELECT ... FOR UPDATE.
INSERT INTO `Lock` (`name`) VALUES ('task-claim');
