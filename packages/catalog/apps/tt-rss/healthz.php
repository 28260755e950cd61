<?php
/*
 * Hearth's health check for Tiny Tiny RSS: 200 "ok" when PHP runs with tt-rss's config and the
 * database answers with the schema version this tt-rss expects; 503 with the reason otherwise.
 * (tt-rss's own pages print database errors with status 200, so they cannot serve as one.)
 */
header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
function fail(string $why): void {
    http_response_code(503);
    echo "not ready: $why\n";
    exit;
}
if (!is_readable('/run/tt-rss/config.php')) fail('no config');
set_include_path('/usr/share/tt-rss/www/include' . PATH_SEPARATOR . get_include_path());
chdir('/usr/share/tt-rss/www');
require_once 'functions.php'; // SCHEMA_VERSION, and config.php
try {
    $pdo = new PDO('pgsql:dbname=' . DB_NAME . ';host=' . DB_HOST . ';port=' . DB_PORT, DB_USER, DB_PASS,
        [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 3]);
    $v = (int) $pdo->query('SELECT schema_version FROM ttrss_version')->fetchColumn();
} catch (Throwable $e) {
    fail('the database does not answer');
}
if ($v !== SCHEMA_VERSION) fail("schema version $v, expected " . SCHEMA_VERSION);
echo "ok\n";
