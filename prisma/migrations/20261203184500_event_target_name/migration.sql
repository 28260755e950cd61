-- The event log names its targets: what `target` is (`targetType`) and its name when the
-- event was written (`targetName`, an app's "Title (host)"), because Event rows outlive the
-- apps, domains and users they name. The event log's app and user filters use the indexes.

ALTER TABLE `Event` ADD COLUMN `targetType` VARCHAR(16) NOT NULL DEFAULT '',
    ADD COLUMN `targetName` VARCHAR(255) NOT NULL DEFAULT '';

CREATE INDEX `Event_targetType_target_createdAt_idx` ON `Event`(`targetType`, `target`, `createdAt`);
CREATE INDEX `Event_actorName_createdAt_idx` ON `Event`(`actorName`, `createdAt`);

-- Backfill what can be known now. The type follows the action's first part (as recordEvent
-- does); names are the target itself, except settings (named as contracts' SETTING_NAMES)
-- and apps (their id), named from the App row, else the UninstalledApp row; an app known to
-- neither keeps an empty name.
UPDATE `Event` SET `targetType` = CASE SUBSTRING_INDEX(`action`, '.', 1)
    WHEN 'app' THEN 'app'
    WHEN 'orphan' THEN 'orphan'
    WHEN 'domain' THEN 'domain'
    WHEN 'user' THEN 'user'
    WHEN 'token' THEN 'token'
    WHEN 'registry' THEN 'registry'
    WHEN 'certificate' THEN 'certificate'
    WHEN 'settings' THEN 'setting'
    WHEN 'mail' THEN 'email'
    ELSE '' END
WHERE `target` <> '';

UPDATE `Event` SET `targetName` = CASE
    WHEN `targetType` <> 'setting' THEN `target`
    WHEN `target` = 'acme' THEN 'Certificate authority (ACME)'
    WHEN `target` = 'network' THEN 'Network'
    WHEN `target` = 'mail.outbound' THEN 'Mail relay'
    WHEN `target` = 'housekeeping.retention' THEN 'Housekeeping'
    WHEN `target` = 'apps.uninstallRetentionDays' THEN 'Kept data of uninstalled apps'
    ELSE `target` END
WHERE `target` <> '' AND `targetType` <> 'app';

UPDATE `Event` e JOIN `App` a ON a.`id` = e.`target`
SET e.`targetName` = LEFT(CONCAT(COALESCE(JSON_UNQUOTE(JSON_EXTRACT(a.`manifest`, '$.title')), a.`manifestId`), ' (', IF(a.`subdomain` = '', a.`domain`, CONCAT(a.`subdomain`, '.', a.`domain`)), ')'), 255)
WHERE e.`targetType` = 'app';

UPDATE `Event` e JOIN `UninstalledApp` u ON u.`id` = e.`target`
SET e.`targetName` = LEFT(CONCAT(u.`title`, ' (', IF(u.`subdomain` = '', u.`domain`, CONCAT(u.`subdomain`, '.', u.`domain`)), ')'), 255)
WHERE e.`targetType` = 'app' AND e.`targetName` = '';
