-- Housekeeping: the daily purge keeps the newest tasks of each app, found through this index
-- (the N-th newest task of one app without scanning the table).

CREATE INDEX `Task_appId_createdAt_idx` ON `Task`(`appId`, `createdAt`);
