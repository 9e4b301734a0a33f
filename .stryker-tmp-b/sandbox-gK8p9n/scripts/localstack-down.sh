#!/usr/bin/env bash
# Stops LocalStack and removes its container (state in $LOCALSTACK_VOLUME_DIR survives only with LOCALSTACK_PERSISTENCE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
docker compose down
