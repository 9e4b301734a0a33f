#!/usr/bin/env bash
# Installs Trino 476 for the `trino` test tier: the server tarball through Maven
# (cached under ~/.m2), unpacked once into TRINO_INSTALL. Prints the install dir.
# Needs Java 24 or later (Trino 476's minimum); the system java is often older.
set -euo pipefail

VERSION="${TRINO_VERSION:-476}"
INSTALL="${TRINO_INSTALL:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/trino-server-$VERSION}"
M2="${MAVEN_REPO:-$HOME/.m2/repository}"
TARBALL="$M2/io/trino/trino-server/$VERSION/trino-server-$VERSION.tar.gz"

# Java: TRINO_JAVA_HOME, else temurin 25, else any JVM of version >= 24 we can find.
java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
find_java() {
  local candidates=()
  [ -n "${TRINO_JAVA_HOME:-}" ] && candidates+=("$TRINO_JAVA_HOME")
  candidates+=(/usr/lib/jvm/temurin-25-jdk-amd64)
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for dir in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do [ -d "$dir" ] && candidates+=("$dir"); done
  for dir in "${candidates[@]}"; do
    if [ -x "$dir/bin/java" ]; then
      local major; major="$(java_major "$dir")"
      if [ -n "$major" ] && [ "$major" -ge 24 ]; then echo "$dir"; return 0; fi
    fi
  done
  return 1
}

if ! JAVA_DIR="$(find_java)"; then
  echo "trino-install: Trino $VERSION needs Java 24 or later; none found (looked at \$TRINO_JAVA_HOME, /usr/lib/jvm/*, \$JAVA_HOME). Install a JDK >= 24 and set TRINO_JAVA_HOME." >&2
  exit 1
fi

if [ ! -x "$INSTALL/bin/launcher" ]; then
  if [ ! -f "$TARBALL" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
      echo "trino-install: mvn is needed to fetch io.trino:trino-server:$VERSION:tar.gz (or place the tarball at $TARBALL)" >&2
      exit 1
    fi
    echo "trino-install: fetching trino-server $VERSION (about 820 MB) into $M2" >&2
    mvn -q dependency:get -Dartifact="io.trino:trino-server:$VERSION:tar.gz" -Dtransitive=false >&2
  fi
  tmp="$INSTALL.partial.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar xzf "$TARBALL" -C "$tmp" --strip-components=1
  mkdir -p "$(dirname "$INSTALL")"
  rm -rf "$INSTALL" && mv "$tmp" "$INSTALL"
fi
echo "$JAVA_DIR" > "$INSTALL/.java-home"
echo "$INSTALL"
