#!/usr/bin/env bash
# Runs a command with Node 22 first on PATH: the major of Lambda's nodejs22.x
# runtime, where this machine's default may be Node 20. Node comes from the npm
# registry's `node` package (installed once under node_modules/.cache/node22);
# PATH, not `npx -p`, so that commands the tests start (CDK's `npx esbuild`)
# also find it.
#   bash scripts/with-node22.sh vitest run test/integration/functions   (npm run test:node22)
#   bash scripts/with-node22.sh npm run bench -- --only engine
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/with-node22.sh <command> [args…]" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/node_modules/.cache/node22"
bin="$prefix/node_modules/node/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q '^v22\.'; then
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error node@22 >/dev/null
fi
version="$("$bin/node" --version)"
case "$version" in
  v22.*) ;;
  *) echo "with-node22: expected Node 22 under $bin, found ${version:-nothing}" >&2; exit 1 ;;
esac
echo "with-node22: Node $version" >&2
PATH="$bin:$PATH" exec "$@"
