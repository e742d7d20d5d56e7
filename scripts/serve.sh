#!/usr/bin/env bash
# Quick start, step 1: set up, migrate, load the sample hub (into an empty database) and serve
# GraphiQL at http://127.0.0.1:8000/graphql, the sample storefront at /shop/brightbuild-store/ and the
# dashboard at /admin/. Extra arguments go to `hub serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
.venv/bin/hub db upgrade
.venv/bin/hub seed --sample
echo "GraphiQL: http://127.0.0.1:8000/graphql  storefront: http://127.0.0.1:8000/shop/brightbuild-store/  dashboard: http://127.0.0.1:8000/admin/ (on the default port)"
exec .venv/bin/hub serve "$@"
