# shellcheck shell=bash
# hearth_apt_mirrors: prints "<debian archive URI> <security archive URI>" (the second may
# be missing) as this machine's apt is configured, for the Debian suite $SUITE (default
# bookworm): the first enabled `deb` source, one-line (/etc/apt/sources.list, *.list) or
# deb822 (*.sources), that serves "$SUITE" resp. "$SUITE-security". Source it; it defines
# functions only. HEARTH_APT_DIR (default /etc/apt) is read, for tests.
hearth_apt_mirrors() {
  local dir="${HEARTH_APT_DIR:-/etc/apt}" suite="${SUITE:-bookworm}" f
  local -a files=()
  [ -f "$dir/sources.list" ] && files+=("$dir/sources.list")
  for f in "$dir"/sources.list.d/*.list "$dir"/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ "${#files[@]}" -gt 0 ] || return 1
  # one "uri suite" line per (enabled deb source, suite)
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && enabled != "no") {
        n = split(uris, u, " "); m = split(suites, s, " ")
        for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
      }
      types = ""; uris = ""; suites = ""; enabled = ""
    }
    FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
    deb822 {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^[ \t]*#/) next
      key = tolower($1); sub(/:$/, "", key); $1 = ""; val = $0; sub(/^[ \t]+/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "enabled") enabled = tolower(val)
      next
    }
    !deb822 {
      sub(/#.*/, "")
      if ($1 != "deb") next
      i = 2
      if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (i + 1 <= NF) print $i, $(i + 1)
    }
    END { flush() }
  ' "${files[@]}" | awk -v suite="$suite" '
    { sub(/\/+$/, "", $1) }
    $2 == suite && main == "" { main = $1 }
    $2 == suite "-security" && sec == "" { sec = $1 }
    $2 == suite "/updates" && sec == "" { sec = $1 }
    END { if (main == "") exit 1; print main, sec }
  '
}
