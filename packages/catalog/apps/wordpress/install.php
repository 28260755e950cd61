<?php
/*
 * Hearth WordPress: run by start.sh as www-data before Apache starts. Waits for the database,
 * then installs WordPress when its tables are missing (so no setup screen is ever shown):
 * user "admin" with $WORDPRESS_ADMIN_PASSWORD or a random password printed to the log once,
 * e-mail $WORDPRESS_ADMIN_EMAIL or admin@<app domain>, title $WORDPRESS_SITE_TITLE or
 * "My WordPress Site". When the image's WordPress is newer than the database, runs the
 * database upgrade instead (what wp-admin/upgrade.php would ask for).
 */
require_once '/run/hearth-wordpress/config.php';

// the mysql addon's server may still be starting (or restarting): wait up to 120 s
mysqli_report(MYSQLI_REPORT_OFF);
[$host, $port] = array_pad(explode(':', DB_HOST, 2), 2, '3306');
$deadline = time() + 120;
for (;;) {
    $db = @mysqli_connect($host, DB_USER, DB_PASSWORD, DB_NAME, (int) $port);
    if ($db) { mysqli_close($db); break; }
    if (time() > $deadline) {
        fwrite(STDERR, 'wordpress: error: cannot reach the database at ' . DB_HOST . ': ' . mysqli_connect_error() . "\n");
        exit(1);
    }
    sleep(2);
}

define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url(WP_HOME, PHP_URL_HOST);
$_SERVER['HTTPS'] = str_starts_with(WP_HOME, 'https://') ? 'on' : 'off';
// pluggable (wp-admin/includes/upgrade.php): the "new site" mail would go to an address
// nobody reads yet; the password is in the log instead
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {}
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
// no HTTP while installing: WordPress would probe its own public URL for pretty permalinks
add_filter('pre_http_request', fn() => new WP_Error('hearth_install', 'no HTTP requests while installing'));

if (is_blog_installed()) {
    global $wp_db_version;
    if ((int) get_option('db_version') !== (int) $wp_db_version) {
        echo "wordpress: upgrading the database from version " . get_option('db_version') . " to $wp_db_version\n";
        wp_upgrade();
    }
    exit(0);
}

$password = getenv('WORDPRESS_ADMIN_PASSWORD') ?: '';
$generated = $password === '';
if ($generated) $password = wp_generate_password(20, false);
$email = getenv('WORDPRESS_ADMIN_EMAIL') ?: 'admin@' . (getenv('HEARTH_APP_DOMAIN') ?: parse_url(WP_HOME, PHP_URL_HOST));
$title = getenv('WORDPRESS_SITE_TITLE') ?: 'My WordPress Site';
$r = wp_install($title, 'admin', $email, true, '', wp_slash($password));
if (is_wp_error($r['user_id'] ?? null) || empty($r['user_id'])) {
    fwrite(STDERR, "wordpress: error: the installation failed\n");
    exit(1);
}
// pretty permalinks (apache2.conf has the rewrite rules)
update_option('permalink_structure', '/%year%/%monthnum%/%postname%/');
flush_rewrite_rules(false);
echo "wordpress: ============================================================\n";
echo "wordpress: installed '$title' at " . WP_HOME . "\n";
if ($generated) {
    echo "wordpress: log in at " . WP_HOME . "/wp-admin/ as 'admin' with the password: $password\n";
    echo "wordpress: (change it under Users -> Profile after logging in)\n";
} else {
    echo "wordpress: log in as 'admin' with the password from WORDPRESS_ADMIN_PASSWORD\n";
}
echo "wordpress: the admin's e-mail address is $email (change it under Settings -> General)\n";
echo "wordpress: ============================================================\n";
