#!/usr/bin/env bash
# `make test`: run the suite. When no WORKBENCH_TEST_PG_URL is given and PostgreSQL's
# initdb can be found, start a throwaway cluster on 127.0.0.1 for the engine tests and
# remove it afterwards; otherwise those tests skip with a reason (and fail under CI=true).
# tests/pg.py gives each test database the read-only role workbench_reader (creating the
# role when the server lacks it): open_case refuses a role that can write.
set -uo pipefail
python=$1; shift
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${WORKBENCH_TEST_PG_URL:-}" ] && { command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1; then
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/workbench-pg.XXXXXX")
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if url=$(bash "$here/pg-throwaway.sh" start "$pgdir" "$port"); then
        export WORKBENCH_TEST_PG_URL=$url
        trap 'bash "$here/pg-throwaway.sh" stop "$pgdir" "$port"' EXIT
        echo "PostgreSQL for the engine tests: $url"
    else
        echo "could not start PostgreSQL; its tests will skip (or fail under CI=true)" >&2
    fi
fi
# Two workers (pytest-xdist): most tests drive one process at a time (a kernel, Chromium, a
# `workbench` run) while pytest waits. --dist loadscope hands each worker whole files, and the
# files that share an expensive session build together (XDIST_GROUPS in tests/conftest.py).
# TEST_WORKERS=0 (or PYTEST_ARGS="-n 0" through make) runs everything in one process.
workers=${TEST_WORKERS:-2}
xdist=()
if [ "$workers" != 0 ]; then xdist=(-n "$workers" --dist loadscope); fi
"$python" -m pytest "${xdist[@]}" "$@"
