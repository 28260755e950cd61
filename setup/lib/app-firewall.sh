#!/usr/bin/env bash
# Host firewall for Hearth's app containers (run as root by setup/install.sh; idempotent):
#
#   setup/lib/app-firewall.sh [--relay-port N] [--existing]
#   setup/lib/app-firewall.sh --remove
#
# Every Docker network box makes has a host interface named hth<12 hex> (bridgeNameOf in
# apps/box/src/docker/docker.ts). Traffic that comes in on those interfaces:
#   - to be forwarded (DOCKER-USER → HEARTH-APPS-FWD): link-local addresses, among them the
#     cloud metadata service 169.254.169.254, are refused before anything leaves the host;
#   - to the host itself, any of its addresses (INPUT → HEARTH-APPS-IN): only what Hearth
#     gives apps is let through — nginx (80, 443: the dashboard's OIDC and the apps' public
#     URLs) and box's sendmail relay (--relay-port, default $HEARTH_MAIL_RELAY_PORT or
#     2525) — and answers to connections the host made; everything else is refused (a TCP
#     reset, so a client fails at once). Box's database, SSH, box's socket… are out of reach.
# With --existing (what setup/install.sh passes), networks made by an earlier box (bridges
# named br-<id>, labelled hearth.managed=true) get the same two jumps by interface name.
# --remove takes it all away.
# The chains are rebuilt on every run (flushed, then filled), and each jump is added once.
set -euo pipefail

FWD=HEARTH-APPS-FWD
IN=HEARTH-APPS-IN
PREFIX=hth
RELAY_PORT="${HEARTH_MAIL_RELAY_PORT:-2525}"
EXISTING=0
REMOVE=0
say() { printf '%s\n' "hearth-firewall: $*"; }
die() { printf '%s\n' "hearth-firewall: error: $*" >&2; exit 1; }

while [ "$#" -gt 0 ]; do
  case "$1" in
    --relay-port) RELAY_PORT="${2:-}"; shift 2 ;;
    --existing) EXISTING=1; shift ;;
    --remove) REMOVE=1; shift ;;
    *) die "unknown argument $1 (usage: $0 [--relay-port N] [--existing] | --remove)" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "run as root"
[[ "$RELAY_PORT" =~ ^[0-9]{1,5}$ ]] && [ "$RELAY_PORT" -ge 1 ] && [ "$RELAY_PORT" -le 65535 ] || die "--relay-port must be a port number, not '$RELAY_PORT'"
command -v iptables >/dev/null || die "iptables is not installed"
ipt() { iptables -w 10 "$@"; }

# every rule of `chain` that jumps to `target`, deleted (by its spec, as iptables -S prints it)
drop_jumps() {
  local chain="$1" target="$2" rule
  ipt -S "$chain" 2>/dev/null | while IFS= read -r rule; do
    case "$rule" in
      "-A $chain "*"-j $target") eval "ipt -D ${rule#-A }" ;;
    esac
  done
}

if [ "$REMOVE" = 1 ]; then
  drop_jumps DOCKER-USER "$FWD"
  drop_jumps INPUT "$IN"
  for c in "$FWD" "$IN"; do
    if ipt -S "$c" >/dev/null 2>&1; then ipt -F "$c" && ipt -X "$c"; fi
  done
  say "removed"
  exit 0
fi

# Docker makes DOCKER-USER when it starts; made here when it has not yet (Docker keeps it)
ipt -S DOCKER-USER >/dev/null 2>&1 || { ipt -N DOCKER-USER && ipt -A DOCKER-USER -j RETURN; }
for c in "$FWD" "$IN"; do ipt -N "$c" 2>/dev/null || ipt -F "$c"; done

ipt -A "$FWD" -d 169.254.0.0/16 -p tcp -j REJECT --reject-with tcp-reset
ipt -A "$FWD" -d 169.254.0.0/16 -j REJECT --reject-with icmp-net-prohibited
ipt -A "$FWD" -j RETURN

ipt -A "$IN" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
ipt -A "$IN" -p tcp -m multiport --dports "80,443,$RELAY_PORT" -j RETURN
ipt -A "$IN" -p icmp -j RETURN
ipt -A "$IN" -p tcp -j REJECT --reject-with tcp-reset
ipt -A "$IN" -j REJECT --reject-with icmp-port-unreachable

jump() { # jump CHAIN IFACE TARGET: first in CHAIN, once
  ipt -C "$1" -i "$2" -j "$3" 2>/dev/null || ipt -I "$1" 1 -i "$2" -j "$3"
}
jump DOCKER-USER "$PREFIX+" "$FWD"
jump INPUT "$PREFIX+" "$IN"

n=0
if [ "$EXISTING" = 1 ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  while read -r id; do
    [ -n "$id" ] || continue
    br="$(docker network inspect -f '{{ index .Options "com.docker.network.bridge.name" }}' "$id" 2>/dev/null || true)"
    [ -n "$br" ] || br="br-${id:0:12}"
    case "$br" in "$PREFIX"*) continue ;; esac
    [[ "$br" =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || continue
    jump DOCKER-USER "$br" "$FWD"
    jump INPUT "$br" "$IN"
    n=$((n + 1))
  done < <(docker network ls -q --no-trunc --filter label=hearth.managed=true --filter driver=bridge)
fi
older=""
[ "$n" -gt 0 ] && older=" and $n older bridges"
say "app containers (interfaces $PREFIX+$older): no link-local/metadata, host only on 80, 443 and $RELAY_PORT"
