#!/usr/bin/env bash
# Runs the integration tier against LocalStack (started and awaited if needed):
# the same tests CI runs against moto, over http://localhost:4566.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ENDPOINT_URL="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

if ! curl -fsS "${AWS_ENDPOINT_URL}/_localstack/health" >/dev/null 2>&1; then
  scripts/localstack-up.sh
fi

exec npx vitest run --project integration "$@"
