<?php
/*
 * DokuWiki settings written by Hearth on first start. The admin may change them in
 * Admin > Configuration Settings (which rewrites this file in /app/data/conf).
 */
$conf['title'] = 'DokuWiki';
$conf['lang'] = 'en';
$conf['license'] = 'cc-by-sa';
$conf['useacl'] = 1;
$conf['authtype'] = 'authplain';
$conf['superuser'] = '@admin';
$conf['disableactions'] = 'register';
$conf['userewrite'] = 0;
$conf['updatecheck'] = 0;
$conf['savedir'] = '/var/lib/dokuwiki/data';
