-- Domains and certificates: DNS providers with sealed settings, TLS modes, custom
-- certificates, app aliases and redirects, and the certificates box obtains.

ALTER TABLE `Domain`
    MODIFY `provider` ENUM('manual', 'wildcard', 'noop', 'rfc2136', 'powerdns', 'cloudflare', 'route53') NOT NULL,
    ADD COLUMN `providerConfigEnc` TEXT NULL,
    ADD COLUMN `tlsMode` VARCHAR(32) NOT NULL DEFAULT 'letsencrypt',
    ADD COLUMN `customCertPem` TEXT NULL,
    ADD COLUMN `customKeyEnc` TEXT NULL;

CREATE TABLE `AppDomain` (
    `id` VARCHAR(36) NOT NULL,
    `appId` VARCHAR(36) NOT NULL,
    `subdomain` VARCHAR(63) NOT NULL,
    `domain` VARCHAR(253) NOT NULL,
    `type` ENUM('alias', 'redirect') NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `AppDomain_appId_idx`(`appId`),
    UNIQUE INDEX `AppDomain_domain_subdomain_key`(`domain`, `subdomain`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Certificate` (
    `id` VARCHAR(36) NOT NULL,
    `namesKey` VARCHAR(768) NOT NULL,
    `names` JSON NOT NULL,
    `domain` VARCHAR(253) NOT NULL,
    `kind` VARCHAR(16) NOT NULL,
    `challenge` VARCHAR(16) NULL,
    `directoryUrl` VARCHAR(512) NULL,
    `issuer` VARCHAR(512) NULL,
    `serial` VARCHAR(128) NULL,
    `fingerprint` VARCHAR(128) NULL,
    `notBefore` DATETIME(3) NULL,
    `notAfter` DATETIME(3) NULL,
    `certPath` VARCHAR(1024) NULL,
    `keyPath` VARCHAR(1024) NULL,
    `issuedAt` DATETIME(3) NULL,
    `lastAttemptAt` DATETIME(3) NULL,
    `lastError` TEXT NULL,
    `failures` INTEGER NOT NULL DEFAULT 0,
    `nextAttemptAt` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    UNIQUE INDEX `Certificate_namesKey_key`(`namesKey`),
    INDEX `Certificate_domain_idx`(`domain`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `DnsRecord` (
    `id` VARCHAR(36) NOT NULL,
    `domain` VARCHAR(253) NOT NULL,
    `fqdn` VARCHAR(253) NOT NULL,
    `type` VARCHAR(8) NOT NULL,
    `value` VARCHAR(64) NOT NULL,
    `appId` VARCHAR(36) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `DnsRecord_fqdn_type_key`(`fqdn`, `type`),
    INDEX `DnsRecord_domain_idx`(`domain`),
    INDEX `DnsRecord_appId_idx`(`appId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `AppDomain` ADD CONSTRAINT `AppDomain_appId_fkey` FOREIGN KEY (`appId`) REFERENCES `App`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE `AppDomain` ADD CONSTRAINT `AppDomain_domain_fkey` FOREIGN KEY (`domain`) REFERENCES `Domain`(`domain`) ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE `Certificate` ADD CONSTRAINT `Certificate_domain_fkey` FOREIGN KEY (`domain`) REFERENCES `Domain`(`domain`) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE `DnsRecord` ADD CONSTRAINT `DnsRecord_domain_fkey` FOREIGN KEY (`domain`) REFERENCES `Domain`(`domain`) ON DELETE CASCADE ON UPDATE CASCADE;
