-- Hearth's own images are named localhost/hearth/<name> (a name no public registry serves)
-- instead of the bare hearth/<name>, which is a Docker Hub name. Stored manifests follow.
-- (The manifest schema also reads a bare hearth/<name> as localhost/hearth/<name>, so rows
-- written by an older admin during an upgrade still work.)
UPDATE `App`
SET `manifest` = JSON_SET(`manifest`, '$.dockerImage', CONCAT('localhost/', JSON_UNQUOTE(JSON_EXTRACT(`manifest`, '$.dockerImage'))))
WHERE JSON_UNQUOTE(JSON_EXTRACT(`manifest`, '$.dockerImage')) LIKE 'hearth/%';
