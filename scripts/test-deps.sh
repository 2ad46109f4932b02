#!/bin/sh
# Install the system packages the server tests need, where they are missing (Debian/Ubuntu).
#   PostgreSQL (initdb, pg_ctl) for the API, concurrency and crash tests against PostgreSQL;
#   Chromium (/usr/bin/chromium) for the web UI's browser tests (Playwright drives it; no downloaded browser);
#   Redis (redis-server) for the throwaway NetBox of tests/test_netbox_live.py (tests/netbox_service.py).
set -eu

have_postgres() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1
}

missing=""
have_postgres || missing="$missing postgresql"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"

if [ -z "$missing" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: please install:$missing (no apt-get here); the tests that need them are skipped" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "test-deps: installing$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
