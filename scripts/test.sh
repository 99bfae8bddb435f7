#!/usr/bin/env bash
# Quick start, command 2: install what is missing, then run every test (npm test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec npm test
