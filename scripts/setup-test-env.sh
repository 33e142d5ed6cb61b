#!/usr/bin/env bash
# Installs the real servers the integration tests start themselves: MariaDB (Debian package),
# FerretDB v1 (MongoDB wire protocol, SQLite backend) and MinIO (S3 with signature checks), both
# built with Go, plus GnuPG and zip, and Debian's Chromium for the console's end-to-end test (driven by
# playwright-core; no browser is ever downloaded). Idempotent: skips what is already there.
set -euo pipefail

need_apt=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
command -v gpg >/dev/null 2>&1 || need_apt+=(gnupg)
command -v zip >/dev/null 2>&1 || need_apt+=(zip)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# The Debian package starts a system server on install; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop mariadb >/dev/null 2>&1 || true; fi

gobin="$(go env GOPATH)/bin"
# FerretDB's module lacks build/version/version.txt (generated in its own repository), so a plain
# `go install …/ferretdb@v1.24.2` builds a binary that panics at start-up. Build it from the
# module source with that file written.
if ! "$gobin/ferretdb" --version >/dev/null 2>&1; then
  echo "building FerretDB v1.24.2…"
  moddir="$(go mod download -json github.com/FerretDB/FerretDB@v1.24.2 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  src="$(mktemp -d)"
  cp -r "$moddir"/. "$src"
  chmod -R u+w "$src"
  printf 'v1.24.2\n' > "$src/build/version/version.txt"
  (cd "$src" && go build -o "$gobin/ferretdb" ./cmd/ferretdb)
  rm -rf "$src"
fi
if [ ! -x "$gobin/minio" ]; then
  echo "building MinIO (go install, a few minutes)…"
  go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c  # the newest module version; pinned for repeatable CI
fi
echo "test servers ready: $(mariadbd --version 2>/dev/null || /usr/sbin/mariadbd --version | head -1); ferretdb and minio in $gobin"
