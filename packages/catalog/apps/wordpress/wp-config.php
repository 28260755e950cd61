<?php
/*
 * Hearth's wp-config.php (replaces Debian's, which picks a file by Host header).
 * The settings come from /run/hearth-wordpress/config.php, which the start script writes
 * from the container's environment (HEARTH_MYSQL_*, HEARTH_MAIL_*, HEARTH_APP_ORIGIN) on
 * every start, and the salts from /app/data/wp-salts.php (made once, kept in backups).
 */
// require_once: install.php loads the config itself before wp-load.php
require_once '/run/hearth-wordpress/config.php';
require_once '/app/data/wp-salts.php';

// behind Hearth's TLS-terminating proxy
if (isset($_SERVER['HTTP_X_FORWARDED_PROTO']) && strtolower($_SERVER['HTTP_X_FORWARDED_PROTO']) === 'https') {
    $_SERVER['HTTPS'] = 'on';
}

if (!defined('ABSPATH')) define('ABSPATH', '/usr/share/wordpress/'); // wp-load.php sets it first
require_once ABSPATH . 'wp-settings.php';
