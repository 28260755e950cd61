-- An app's first admin account (manifest `firstAdmin`): the password Hearth generated at
-- install, sealed with HEARTH_SECRET_KEY, kept until the admin marks it as changed (the row
-- is then deleted). box passes it to the container in the manifest's `passwordEnv`.
CREATE TABLE `AppCredential` (
    `appId` VARCHAR(36) NOT NULL,
    `username` VARCHAR(64) NOT NULL,
    `passwordEnc` TEXT NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`appId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `AppCredential` ADD CONSTRAINT `AppCredential_appId_fkey` FOREIGN KEY (`appId`) REFERENCES `App`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
