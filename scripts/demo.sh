#!/usr/bin/env bash
# Quick start, command 1: install what is missing, then show the adapter choosing caller IDs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec npx tsx scripts/demo.ts "$@"
