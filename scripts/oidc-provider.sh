#!/usr/bin/env bash
# Installs the OpenID Connect provider the sign-in tests run on loopback (the npm
# `oidc-provider` package, pinned by its lockfile) with the machine's Node.js.
set -euo pipefail
cd "$(dirname "$0")/../crates/consulate/tests/oidc-provider"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm (Node.js) is needed for the sign-in tests; install Debian's nodejs and npm" >&2
  exit 1
fi
if [ ! -d node_modules/oidc-provider ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
