#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the tests; installs nothing.
#
#   scripts/pg-throwaway.sh start DIR PORT   # prints the WORKBENCH_TEST_PG_URL to export
#   scripts/pg-throwaway.sh stop  DIR PORT   # stops it and deletes DIR
#
# initdb and pg_ctl are taken from PATH, else from the newest /usr/lib/postgresql/*/bin.
# PostgreSQL refuses to run as root, so as root they run as the user postgres. The
# cluster trusts local connections, listens on 127.0.0.1 only, and runs without fsync:
# it holds nothing worth keeping.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR PORT" >&2; exit 2; }
[ $# -eq 3 ] || usage
action=$1 dir=$2 port=$3

pg_bin() {
    if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
    local found
    found=$(ls -1d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$found" ]; then
        echo "$0: $1 not found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL (e.g. apt-get install -y postgresql)" >&2
        exit 1
    fi
    echo "$found"
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
    else
        "$@"
    fi
}

initdb=$(pg_bin initdb)
pg_ctl=$(pg_bin pg_ctl)

case $action in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if as_owner "$pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        echo "PostgreSQL already running in $dir/data" >&2
    else
        as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    usage
    ;;
esac
