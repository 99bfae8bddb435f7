#!/usr/bin/env bash
# Builds FreeSWITCH 1.10.12 from the official sources into /opt/fs1012 (CALLPOLICY_FREESWITCH_PREFIX),
# with only the modules this project's dialplan and tests use. Run as root on Debian 12; about
# 7 minutes on 2 cores. scripts/bootstrap.sh calls it when no build is at hand.
#
# It needs to reach the sources' public git repositories (signalwire/freeswitch, freeswitch/sofia-sip,
# freeswitch/spandsp). The machines this project is developed on cannot, so this path is not run
# there: they install the same build, made by this recipe, from ../shared/freeswitch/.
set -euo pipefail
prefix="${CALLPOLICY_FREESWITCH_PREFIX:-/opt/fs1012}"
src="${CALLPOLICY_FREESWITCH_SRC:-/var/cache/callpolicy/freeswitch-src}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git build-essential autoconf automake libtool pkg-config \
  libssl-dev libcurl4-openssl-dev libpcre3-dev libspeex-dev libspeexdsp-dev libedit-dev libsqlite3-dev \
  libsndfile1-dev libtiff-dev libjpeg-dev uuid-dev zlib1g-dev yasm >/dev/null
mkdir -p "$src"
fetch() { # repo ref dir
  [ -d "$src/$3/.git" ] || git clone --quiet "https://github.com/$1.git" "$src/$3"
  git -C "$src/$3" checkout --quiet "$2"
}
fetch freeswitch/sofia-sip v1.13.17 sofia-sip
fetch freeswitch/spandsp 0c7bcebef4f0 spandsp
fetch signalwire/freeswitch v1.10.12 freeswitch
for lib in sofia-sip spandsp; do
  (cd "$src/$lib" && ./bootstrap.sh >/dev/null && ./configure --prefix="$prefix" >/dev/null && make -j2 >/dev/null && make install >/dev/null)
done
cd "$src/freeswitch"
cat > modules.conf <<'MODS'
applications/mod_commands
applications/mod_db
applications/mod_dptools
applications/mod_expr
applications/mod_hash
applications/mod_voicemail
dialplans/mod_dialplan_xml
endpoints/mod_loopback
endpoints/mod_sofia
event_handlers/mod_event_socket
formats/mod_local_stream
formats/mod_native_file
formats/mod_sndfile
formats/mod_tone_stream
loggers/mod_console
loggers/mod_logfile
say/mod_say_en
MODS
./bootstrap.sh -j >/dev/null
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" ./configure --prefix="$prefix" --disable-debug --disable-libvpx --disable-libyuv \
  CFLAGS='-g -O2 -Wno-error=stringop-overflow -Wno-error=array-bounds' LDFLAGS="-Wl,-rpath,$prefix/lib" >/dev/null
make -j2 >/dev/null
make install >/dev/null
"$prefix/bin/freeswitch" -version
