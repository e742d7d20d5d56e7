#!/usr/bin/env bash
# Sourced by serve.sh and test.sh: makes .venv with Python 3.11+ and installs the hub, once per pyproject change,
# and GraphiQL's npm packages into web/node_modules, once per web/package-lock.json change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "The hub needs Python 3.11 or newer." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.hub-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  echo "$want" > "$stamp"
fi
# GraphiQL's files (web/package.json): `npm ci` once per lock file change, when Node.js 20+ is here.
# Without them the hub still serves; its page at /graphql says what to install.
web_stamp="web/node_modules/.hub-installed"
web_want="$(sha256sum web/package-lock.json | cut -d' ' -f1)"
if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_want" ]; then
  if command -v npm >/dev/null 2>&1 &&
     node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
    if (cd web && npm ci --no-audit --no-fund --loglevel=error); then
      echo "$web_want" > "$web_stamp"
    else
      echo "npm ci in web/ failed: GraphiQL's page will say its files are missing." >&2
    fi
  else
    echo "Node.js 20+ is not installed: GraphiQL's files are not (the page at /graphql says so)." >&2
  fi
fi
