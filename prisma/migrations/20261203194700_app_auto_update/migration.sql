-- Automatic patch updates, per app (off by default): box's nightly window queues app.update
-- for an app whose catalog has a newer patch version of the same major.minor.

ALTER TABLE `App` ADD COLUMN `autoUpdate` BOOLEAN NOT NULL DEFAULT false;
