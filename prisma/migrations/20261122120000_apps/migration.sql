-- Apps from manifests: domains, apps, published TCP ports, registry credentials.

CREATE TABLE `Domain` (
    `domain` VARCHAR(253) NOT NULL,
    `provider` ENUM('manual', 'wildcard', 'noop') NOT NULL,
    `isDashboardDomain` BOOLEAN NOT NULL DEFAULT false,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`domain`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `App` (
    `id` VARCHAR(36) NOT NULL,
    `manifestId` VARCHAR(128) NOT NULL,
    `storeId` VARCHAR(128) NULL,
    `manifest` JSON NOT NULL,
    `version` VARCHAR(64) NOT NULL,
    `subdomain` VARCHAR(63) NOT NULL,
    `domain` VARCHAR(253) NOT NULL,
    `installState` ENUM('pending_install', 'pending_configure', 'pending_uninstall', 'pending_start', 'pending_stop', 'pending_restart', 'installed', 'error') NOT NULL,
    `runState` ENUM('running', 'stopped') NOT NULL DEFAULT 'running',
    `health` ENUM('healthy', 'unhealthy', 'starting', 'dead') NULL,
    `healthCheckedAt` DATETIME(3) NULL,
    `memoryLimit` BIGINT NOT NULL,
    `env` JSON NOT NULL,
    `containerId` VARCHAR(64) NULL,
    `httpHostPort` INTEGER NULL,
    `errorCode` VARCHAR(64) NULL,
    `errorMessage` TEXT NULL,
    `errorTaskId` VARCHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `App_httpHostPort_key`(`httpHostPort`),
    INDEX `App_installState_idx`(`installState`),
    UNIQUE INDEX `App_domain_subdomain_key`(`domain`, `subdomain`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `AppPort` (
    `appId` VARCHAR(36) NOT NULL,
    `envName` VARCHAR(64) NOT NULL,
    `hostPort` INTEGER NOT NULL,
    `containerPort` INTEGER NOT NULL,

    UNIQUE INDEX `AppPort_hostPort_key`(`hostPort`),
    PRIMARY KEY (`appId`, `envName`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Registry` (
    `id` VARCHAR(36) NOT NULL,
    `server` VARCHAR(255) NOT NULL,
    `username` VARCHAR(255) NOT NULL,
    `passwordEnc` TEXT NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `Registry_server_key`(`server`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `App` ADD CONSTRAINT `App_domain_fkey` FOREIGN KEY (`domain`) REFERENCES `Domain`(`domain`) ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE `AppPort` ADD CONSTRAINT `AppPort_appId_fkey` FOREIGN KEY (`appId`) REFERENCES `App`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
