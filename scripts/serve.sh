#!/usr/bin/env bash
# Quick start, step 1: set up, migrate, load the sample hub (into an empty database) and serve
# GraphiQL at http://127.0.0.1:8000/graphql. Extra arguments go to `hub serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
.venv/bin/hub db upgrade
.venv/bin/hub seed --sample
exec .venv/bin/hub serve "$@"
