#!/bin/sh
# Entrypoint of the callpolicy Asterisk image (docker/asterisk.Dockerfile).
#
# At every start, writes ari.conf and http.conf from the shipped samples of dialplan/asterisk/
# (copied into the image as they are), then runs the command (default: asterisk -f):
#   ari.conf:  the [callpolicy] user's "password = " line gets ARI_PASSWORD, or the content of
#              ARI_PASSWORD_FILE (a compose/swarm secret). There is no default: without one,
#              or with the sample's placeholder, the container stops here.
#   http.conf: bindaddr gets ARI_HTTP_BINDADDR (default 0.0.0.0: the container's own
#              interfaces, so that the adapter's container reaches ARI over the compose network;
#              compose.yaml publishes no HTTP port).
# Nothing else of the samples changes. test/unit/docker-asterisk.test.ts runs this script
# against dialplan/asterisk/ (CALLPOLICY_ASTERISK_SAMPLES and CALLPOLICY_ASTERISK_ETC point
# it at other folders; the image uses the defaults).
set -eu

samples=${CALLPOLICY_ASTERISK_SAMPLES:-/usr/share/callpolicy/asterisk}
etc=${CALLPOLICY_ASTERISK_ETC:-/etc/asterisk}
placeholder=REPLACE-WITH-A-SECRET

die() {
  echo "callpolicy-asterisk: $*" >&2
  exit 1
}

# set_option FILE SECTION KEY: prints FILE with the one "KEY = ..." line of [SECTION] replaced
# by "KEY = $OPTION_VALUE". Fails unless exactly one such line is there. The value goes
# through the environment, not awk -v, so that awk does not interpret backslashes in it.
set_option() {
  awk -v section="$2" -v key="$3" '
    /^\[/ { name = $0; sub(/^\[/, "", name); sub(/\].*$/, "", name); inside = (name == section) }
    inside && $0 ~ ("^[ \t]*" key "[ \t]*=") { print key " = " ENVIRON["OPTION_VALUE"]; found++; next }
    { print }
    END { if (found != 1) { printf "%s: [%s] has %d \"%s =\" lines, expected 1\n", FILENAME, section, found, key > "/dev/stderr"; exit 1 } }
  ' "$1"
}

if [ -n "${ARI_PASSWORD_FILE:-}" ]; then
  [ -r "$ARI_PASSWORD_FILE" ] || die "ARI_PASSWORD_FILE=$ARI_PASSWORD_FILE cannot be read"
  password=$(cat "$ARI_PASSWORD_FILE")
else
  password=${ARI_PASSWORD:-}
fi
[ -n "$password" ] || die "set ARI_PASSWORD (or ARI_PASSWORD_FILE): the password of the adapter's ARI user; there is no default (openssl rand -hex 24 makes one)"
[ "$password" != "$placeholder" ] || die "ARI_PASSWORD is the sample's placeholder; set a real secret (openssl rand -hex 24)"
case $password in
  # ';' would start a comment in ari.conf, spaces would be trimmed, quotes and '\' kept as is.
  *[!A-Za-z0-9+/=._~-]*) die "ARI_PASSWORD may only hold A-Z a-z 0-9 and + / = . _ ~ - (openssl rand -hex 24 or -base64 24 fit)" ;;
esac
[ "${#password}" -ge 16 ] || die "ARI_PASSWORD is too short: 16 characters at least (openssl rand -hex 24)"

bindaddr=${ARI_HTTP_BINDADDR:-0.0.0.0}
case $bindaddr in
  *[!0-9A-Za-z.:-]* | '') die "ARI_HTTP_BINDADDR must be an address" ;;
esac

umask 077
mkdir -p "$etc"
OPTION_VALUE=$password set_option "$samples/ari.conf.sample" callpolicy password >"$etc/ari.conf.new"
mv "$etc/ari.conf.new" "$etc/ari.conf"
umask 022
OPTION_VALUE=$bindaddr set_option "$samples/http.conf.sample" general bindaddr >"$etc/http.conf.new"
mv "$etc/http.conf.new" "$etc/http.conf"

[ "$#" -gt 0 ] || set -- asterisk -f
exec "$@"
