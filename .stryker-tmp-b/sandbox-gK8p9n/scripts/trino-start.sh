#!/usr/bin/env bash
# Starts a single-node Trino 476 on 127.0.0.1 for the `trino` test tier: a `hive`
# catalog (raw tables: external Parquet over the lake) and an `iceberg` catalog
# (current tables) sharing one file metastore, like one Glue database.
#   TRINO_STATE  directory for etc/, data/, meta/ (default: a new temp dir)
#   TRINO_PORT   HTTP port (default 18181)
#   TRINO_XMX    heap (default 2G)
# Installs Trino first if needed (scripts/trino-install.sh). Prints
# `TRINO_STATE=<dir> TRINO_PORT=<port>` on its last line once the server answers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
install=$("$here/trino-install.sh")
java=$(cat "$install/.java-home")
state=${TRINO_STATE:-$(mktemp -d "${TMPDIR:-/tmp}/sluice-trino.XXXXXX")}
port=${TRINO_PORT:-18181}
xmx=${TRINO_XMX:-2G}
mkdir -p "$state/etc/catalog" "$state/data" "$state/meta"

cat >"$state/etc/node.properties" <<PROPS
node.environment=sluice_test
node.id=sluice-trino-$port
PROPS
cat >"$state/etc/jvm.config" <<PROPS
-server
-Xmx$xmx
-XX:+UseG1GC
-XX:+ExitOnOutOfMemoryError
-Djdk.attach.allowAttachSelf=true
-XX:ReservedCodeCacheSize=256M
PROPS
cat >"$state/etc/config.properties" <<PROPS
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$port
discovery.uri=http://127.0.0.1:$port
query.max-memory=1GB
query.max-memory-per-node=1GB
PROPS
echo "io.trino=WARN" >"$state/etc/log.properties"
# One metastore for both catalogs; each redirects the other's tables (Glue holds both kinds).
cat >"$state/etc/catalog/hive.properties" <<PROPS
connector.name=hive
hive.metastore=file
hive.metastore.catalog.dir=local://$state/meta
fs.native-local.enabled=true
local.location=/
hive.ignore-absent-partitions=true
hive.iceberg-catalog-name=iceberg
hive.metastore.disable-location-checks=true
PROPS
cat >"$state/etc/catalog/iceberg.properties" <<PROPS
connector.name=iceberg
iceberg.catalog.type=testing_file_metastore
hive.metastore.catalog.dir=local://$state/meta
fs.native-local.enabled=true
local.location=/
iceberg.hive-catalog-name=hive
PROPS

"$install/bin/launcher" --etc-dir="$state/etc" --data-dir="$state/data" --jvm-dir="$java" \
  --pid-file="$state/trino.pid" start >/dev/null
pid=$(cat "$state/trino.pid")
for _ in $(seq 1 720); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "trino-start: Trino exited; see $state/data/var/log/server.log" >&2
    grep -m3 -A8 ERROR "$state/data/var/log/server.log" >&2 || true
    exit 1
  fi
  # "starting":false comes a few seconds before queries run; callers retry NO_NODES_AVAILABLE.
  if curl -sf "http://127.0.0.1:$port/v1/info" 2>/dev/null | grep -q '"starting":false'; then
    echo "TRINO_STATE=$state TRINO_PORT=$port"
    exit 0
  fi
  sleep 0.25
done
echo "trino-start: not ready after 180 s; see $state/data/var/log/server.log" >&2
exit 1
