#!/usr/bin/env bash
# Runs a command with Node 22 first on PATH (and the project's node_modules/.bin
# after it): the major of Lambda's nodejs22.x runtime, where this machine's
# default may be Node 20 (docs/adr/0012). Node comes from the npm registry's
# `node` package at NODE22_VERSION, installed once under node_modules/.cache/node22
# (its install fetches the platform's binary package, ~50 MB). PATH, not
# `npx -p`, so that commands the tests start (CDK's `npx esbuild`) find it too.
#   bash scripts/with-node22.sh vitest run test/integration/functions
#   bash scripts/with-node22.sh npm run bench -- --only engine
set -euo pipefail
# Lambda moves nodejs22.x along the 22 line; move this with it.
NODE22_VERSION=22.23.3
if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/with-node22.sh <command> [args…]" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/node_modules/.cache/node22"
bin="$prefix/node_modules/node/bin"
installed() { [ "$("$bin/node" --version 2>/dev/null || true)" = "v$NODE22_VERSION" ]; }
if ! installed; then
  # A fresh prefix: npm would take a half-finished earlier install as up to date.
  rm -rf "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node@$NODE22_VERSION" >/dev/null
fi
if ! installed; then
  echo "with-node22: installing node@$NODE22_VERSION left no working $bin/node" >&2
  exit 1
fi
echo "with-node22: Node v$NODE22_VERSION" >&2
PATH="$bin:$root/node_modules/.bin:$PATH" exec "$@"
