#!/usr/bin/env bash
# Provision the real-Asterisk sandbox used by integration tests, the demo and the benchmark.
#
# - A Debian unstable (sid) root with asterisk 22, its English sounds and sipp, built with
#   debootstrap into $CALLPOLICY_ASTERISK_ROOT (default /var/cache/callpolicy/asterisk-root).
#   Debian 12 has no Asterisk package; sid does. About 600 MB and 1 to 2 minutes.
# - sipp on the host (/usr/bin/sipp, apt package sip-tester), used to play phones and the trunk.
#
# Idempotent: a root that already has usr/sbin/asterisk is left alone. The root is built in
# <root>.tmp and renamed only when debootstrap succeeded, so a half-built root is never reused.
# Needs root (apt-get, debootstrap, chroot).
set -euo pipefail

ROOT="${CALLPOLICY_ASTERISK_ROOT:-/var/cache/callpolicy/asterisk-root}"
SUITE="${CALLPOLICY_ASTERISK_SUITE:-sid}"
MIRROR="${CALLPOLICY_DEBIAN_MIRROR:-}"

log() { printf 'provision-asterisk-root: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

if [ "$(id -u)" != 0 ]; then
  die "must run as root (debootstrap, apt-get and chroot need it)"
fi

# 1. sipp on the host.
if [ ! -x /usr/bin/sipp ]; then
  apt_install sip-tester
  [ -x /usr/bin/sipp ] || die "sip-tester installed but /usr/bin/sipp is missing"
fi

# 2. The Asterisk root.
if [ -x "$ROOT/usr/sbin/asterisk" ]; then
  log "asterisk root ready at $ROOT"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  apt_install debootstrap
fi

TMP="$ROOT.tmp"
if [ -e "$TMP" ]; then
  log "removing a half-built root at $TMP"
  # A leftover from an interrupted run; make sure nothing is still mounted inside it.
  if grep -q " $TMP/" /proc/mounts; then
    die "$TMP has mounts under it (see /proc/mounts); unmount them and run again"
  fi
  rm -rf --one-file-system "$TMP"
fi
mkdir -p "$(dirname "$ROOT")"

log "debootstrap --variant=minbase $SUITE into $TMP (1 to 2 minutes, about 600 MB)"
# shellcheck disable=SC2086 # MIRROR is empty (debootstrap's default mirror) or one word.
if ! debootstrap --variant=minbase \
  --include=asterisk,asterisk-core-sounds-en,sip-tester \
  "$SUITE" "$TMP" $MIRROR; then
  die "debootstrap failed; the partial root stays at $TMP for inspection (it is removed on the next run); see $TMP/debootstrap/debootstrap.log"
fi

[ -x "$TMP/usr/sbin/asterisk" ] || die "debootstrap finished but $TMP/usr/sbin/asterisk is missing"

if [ -e "$ROOT" ]; then
  # A root without usr/sbin/asterisk: not ours to reuse.
  log "moving an incomplete $ROOT aside to $ROOT.old.$$"
  mv "$ROOT" "$ROOT.old.$$"
fi
mv "$TMP" "$ROOT"
log "asterisk root ready at $ROOT ($(chroot "$ROOT" asterisk -V 2>/dev/null || echo "asterisk -V failed"))"
