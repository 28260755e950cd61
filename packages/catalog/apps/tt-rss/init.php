<?php
/*
 * Hearth Tiny Tiny RSS: run by start.sh as www-data before Apache and the updater start.
 * Waits for the database; on an empty database loads tt-rss's schema
 * (schema/ttrss_schema_pgsql.sql) and gives the user "admin" the password $TTRSS_ADMIN_PASSWORD
 * or a random one printed to the log once (the schema's admin/password never stays: it is
 * replaced whenever it is found); on an older schema runs tt-rss's own updater (DbUpdater,
 * what `update.php --update-schema=force-yes` does). Serialised by an advisory lock.
 */
set_include_path('/usr/share/tt-rss/www/include' . PATH_SEPARATOR . get_include_path());
chdir('/usr/share/tt-rss/www');
define('DISABLE_SESSIONS', true);
require_once 'autoload.php';
require_once 'functions.php';
require_once 'config.php';
require_once 'sanity_check.php'; // tt-rss's own checks of the config, PHP and the directories
require_once 'db.php';

function say(string $s): void { echo "tt-rss: $s\n"; }
function die_with(string $s): void { fwrite(STDERR, "tt-rss: error: $s\n"); exit(1); }

// the postgresql service may still be starting (or restarting): wait up to 120 s
$dsn = 'pgsql:dbname=' . DB_NAME . ';host=' . DB_HOST . ';port=' . DB_PORT;
$deadline = time() + 120;
for (;;) {
    try {
        $pdo = new PDO($dsn, DB_USER, DB_PASS, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 5]);
        break;
    } catch (PDOException $e) {
        if (time() > $deadline) die_with('cannot reach the database at ' . DB_HOST . ':' . DB_PORT . ': ' . $e->getMessage());
        sleep(2);
    }
}
$pdo->query("SELECT pg_advisory_lock(hashtext('hearth-tt-rss-init'))");

$fresh = !$pdo->query("SELECT to_regclass('public.ttrss_version') IS NOT NULL")->fetchColumn();
if ($fresh) {
    say('empty database: loading the schema (version ' . SCHEMA_VERSION . ')');
    // the file is its own transaction (begin; ... commit;)
    $pdo->exec(file_get_contents('/usr/share/tt-rss/schema/ttrss_schema_pgsql.sql'));
}

$updater = new DbUpdater(Db::pdo(), DB_TYPE, SCHEMA_VERSION);
$from = $updater->getSchemaVersion();
if ($from > SCHEMA_VERSION) die_with("the database's schema ($from) is newer than this tt-rss (" . SCHEMA_VERSION . ')');
for ($v = $from + 1; $v <= SCHEMA_VERSION; $v++) {
    say("updating the schema to version $v");
    if (!$updater->performUpdateTo($v, false)) die_with("updating the schema to version $v failed");
}

// the admin's password: set on the first start, and whenever it is still the schema's default
$row = $pdo->query("SELECT pwd_hash, salt FROM ttrss_users WHERE login = 'admin'")->fetch(PDO::FETCH_ASSOC);
$default = $row && in_array($row['pwd_hash'], [
    'SHA1:' . sha1('password'),
    encrypt_password('password', $row['salt']),
    encrypt_password('password', $row['salt'], true),
], true);
if ($default) {
    $password = getenv('TTRSS_ADMIN_PASSWORD') ?: '';
    $generated = $password === '';
    if ($generated) {
        $alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
        for ($i = 0; $i < 20; $i++) $password .= $alphabet[random_int(0, strlen($alphabet) - 1)];
    } elseif ($password === 'password') {
        die_with("TTRSS_ADMIN_PASSWORD must not be tt-rss's default password");
    }
    // what auth_internal does when a password changes: a new 250-character salt, MODE2 hash
    $salt = substr(bin2hex(random_bytes(125)), 0, 250);
    $st = $pdo->prepare("UPDATE ttrss_users SET pwd_hash = ?, salt = ?, otp_enabled = false WHERE login = 'admin'");
    $st->execute([encrypt_password($password, $salt, true), $salt]);
    say('============================================================');
    if ($generated) {
        say('log in at ' . SELF_URL_PATH . " as 'admin' with the password: $password");
        say('(change it under Preferences -> Personal data / Authentication)');
    } else {
        say("log in as 'admin' with the password from TTRSS_ADMIN_PASSWORD");
    }
    say('============================================================');
}
$pdo->query("SELECT pg_advisory_unlock(hashtext('hearth-tt-rss-init'))");
