#!/usr/bin/env bash
# Starts LocalStack (docker-compose.yml) and waits until every service Sluice uses is ready.
set -euo pipefail
cd "$(dirname "$0")/.."

ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
SERVICES="s3 dynamodb glue athena secretsmanager sts iam kinesis sqs sns stepfunctions events scheduler cloudwatch logs"

if [ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]; then
  echo "LOCALSTACK_AUTH_TOKEN is not set: LocalStack needs it (Glue and Athena are Pro services)." >&2
  echo "Without LocalStack, run the integration tier against moto: npm run test:integration" >&2
  exit 1
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "docker is not installed; the integration tier can run against moto instead: npm run test:integration" >&2
  exit 1
fi

docker compose up -d localstack

echo "waiting for LocalStack at ${ENDPOINT} ..."
deadline=$(( $(date +%s) + ${LOCALSTACK_WAIT_SECONDS:-180} ))
while :; do
  health="$(curl -fsS "${ENDPOINT}/_localstack/health" 2>/dev/null || true)"
  if [ -n "$health" ]; then
    missing=""
    for service in $SERVICES; do
      # Each service reports "available" (lazy start) or "running".
      if ! printf '%s' "$health" | grep -Eq "\"${service}\": *\"(available|running)\""; then
        missing="$missing $service"
      fi
    done
    if [ -z "$missing" ]; then
      echo "LocalStack is ready at ${ENDPOINT}"
      exit 0
    fi
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "LocalStack did not become ready; not ready:${missing:- (no answer)}" >&2
    echo "see: docker compose logs localstack" >&2
    exit 1
  fi
  sleep 2
done
