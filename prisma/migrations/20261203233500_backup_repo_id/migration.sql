-- The id of the restic repository Hearth backs up to (restic cat config → id): set by the site
-- test (the only step that may make a repository) or adopted from the repository the first
-- backup opens; null again when the site changes. backup.app and backup.restore refuse a site
-- whose repository is missing or has another id (an unmounted disk, another folder).
ALTER TABLE `BackupConfig` ADD COLUMN `repoId` VARCHAR(64) NULL;
