<?php
/*
 * Plugin Name: Hearth mail
 * Description: Sends WordPress's mail through Hearth's mail relay (the sendmail addon).
 *
 * The relay is on the app network's gateway (HEARTH_MAIL_SMTP_SERVER:PORT), speaks STARTTLS
 * with a self-signed certificate on that private network (so the certificate is not
 * verified), requires AUTH, and accepts only HEARTH_MAIL_FROM as the sender: every mail is
 * sent from that address (envelope and header), with the site's title as the name.
 */
if (!defined('HEARTH_SMTP_HOST') || HEARTH_SMTP_HOST === '' || HEARTH_MAIL_FROM === '') return;

add_action('phpmailer_init', function ($mailer) {
    $mailer->isSMTP();
    $mailer->Host = HEARTH_SMTP_HOST;
    $mailer->Port = HEARTH_SMTP_PORT;
    $mailer->SMTPAuth = true;
    $mailer->Username = HEARTH_SMTP_USERNAME;
    $mailer->Password = HEARTH_SMTP_PASSWORD;
    $mailer->SMTPSecure = 'tls'; // STARTTLS
    $mailer->SMTPAutoTLS = true;
    $mailer->SMTPOptions = ['ssl' => ['verify_peer' => false, 'verify_peer_name' => false, 'allow_self_signed' => true]];
    $mailer->Sender = HEARTH_MAIL_FROM;
    $mailer->Timeout = 30;
}, PHP_INT_MAX);

add_filter('wp_mail_from', fn() => HEARTH_MAIL_FROM, PHP_INT_MAX);
add_filter('wp_mail_from_name', function ($name) {
    return $name === 'WordPress' ? wp_specialchars_decode(get_option('blogname'), ENT_QUOTES) : $name;
}, PHP_INT_MAX);

// failures go to the app's log (the message only: no credentials)
add_action('wp_mail_failed', function ($error) {
    error_log('wordpress: sending mail failed: ' . $error->get_error_message());
});
