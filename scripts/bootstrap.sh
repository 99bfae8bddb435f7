#!/usr/bin/env bash
# Installs everything the tests, the demo and the benchmark need on a fresh Debian 12 machine
# (run as root): sipp, the Asterisk root (debootstrap), FreeSWITCH 1.10.12, PostgreSQL running, espeak-ng and sox
# (survey prompts), npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sipp >/dev/null || need_apt+=(sip-tester)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
command -v pg_isready >/dev/null || need_apt+=(postgresql)
# Survey prompts: text is spoken by espeak-ng, audio is converted by sox when a policy is applied.
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v sox >/dev/null || need_apt+=(sox)
# The shipped systemd unit is checked with systemd-analyze (verify, security --offline).
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
# The dashboard is tested in a real headless browser (driven by playwright-core).
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "bootstrap: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi

bash scripts/provision-asterisk-root.sh

# FreeSWITCH 1.10.12 for the tests on the real switch (test/integration/fs-*.test.ts), in
# /opt/fs1012 (CALLPOLICY_FREESWITCH_PREFIX). FreeSWITCH is not in Debian: the build beside this
# project (../shared/freeswitch/, made from the official sources) is installed when present;
# otherwise scripts/build-freeswitch.sh builds it from the official sources (it needs to reach
# them, about 7 minutes on 2 cores).
fs_prefix="${CALLPOLICY_FREESWITCH_PREFIX:-/opt/fs1012}"
if [ ! -x "$fs_prefix/bin/freeswitch" ]; then
  if [ -x ../shared/freeswitch/install.sh ] || [ -f ../shared/freeswitch/install.sh ]; then
    echo "bootstrap: installing FreeSWITCH 1.10.12 from ../shared/freeswitch/"
    bash ../shared/freeswitch/install.sh >/dev/null
  else
    echo "bootstrap: no FreeSWITCH at $fs_prefix and no ../shared/freeswitch/: building it from the official sources (scripts/build-freeswitch.sh)"
    bash scripts/build-freeswitch.sh
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund
fi
echo "bootstrap: ready"
