#!/bin/bash
# Sudo helper (root): installs box's nginx vhost set, read as JSON from stdin, into the
# root-owned /etc/nginx/hearth/ after checking every file against the directives Hearth
# renders (the flat layout's hearth-apps.conf of maps, the dashboards' files); then reload,
# which is the check (the master's [emerg] in its error log, else nginx -t first), and the
# previous set back when nginx refuses the new one.
# box runs it as `sudo -n /opt/hearth/app/setup/sudo/install-vhosts.sh < set.json`;
# /etc/sudoers.d/hearth allows exactly the scripts in this folder. Takes no arguments: the
# checks and the install are in install-vhosts.mjs next to it (see that file and
# apps/box/README.md "Root helpers"), run with Hearth's Node and an empty environment.
set -euo pipefail
if [ $# -ne 0 ]; then
  echo "install-vhosts: refused: takes no arguments (the vhost set comes on stdin)" >&2
  exit 2
fi
here="$(dirname "$(readlink -f "$0")")"
node=/opt/hearth/runtime/bin/node
[ -x "$node" ] || node="$(PATH=/usr/local/bin:/usr/bin:/bin command -v node)"
cd /
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  "$node" --disallow-code-generation-from-strings "$here/install-vhosts.mjs"
