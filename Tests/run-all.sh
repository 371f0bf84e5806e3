#!/usr/bin/env bash
# Runs every test of ramp: the README's test command, and what .ci/run calls.
# Installs what the tests need when it is missing (Debian packages), then builds and runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

missing=()
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# A real Prometheus for the metric-source tests (started by the tests on 127.0.0.1, never as a service).
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# node_exporter serves ramp's metrics file (its textfile collector) to a real Prometheus scrape.
command -v prometheus-node-exporter >/dev/null 2>&1 || missing+=(prometheus-node-exporter)
# The shells and man check the generated completions and man page.
for tool in zsh fish man; do command -v "$tool" >/dev/null 2>&1 || missing+=("$([ "$tool" = man ] && echo man-db || echo "$tool")"); done
# python3 serves JSON for the http source tests and receives notifications.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# A real browser renders `ramp report`'s HTML (headless; Tests/Support/chromium_check.py drives it).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
# A real PostgreSQL (each test starts a private server on 127.0.0.1) and libpq, which ramp loads at run time.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
ldconfig -p 2>/dev/null | grep -q 'libpq\.so\.5' || missing+=(libpq5)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing test dependencies: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u)
    # Debian's package may start a service where an init system runs; the tests start their own.
    for service in prometheus prometheus-node-exporter postgresql; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
            $sudo systemctl stop "$service" || true
        fi
    done
fi

# A virtual environment VENV holding exactly PACKAGE==VERSION from PyPI, made (again) unless it already does.
venv_with() {
    local package=$1 version=$2 venv=$3
    if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$package') != '$version')" \
        >/dev/null 2>&1; then
        echo "installing $package==$version into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "$package==$version"
    fi
}

# The Python OpenFeature flagd provider, an independent evaluator of ramp's flagd export (from PyPI), in both
# bucketing generations: 0.5.x hashes flagKey + targetingKey, 0.6.x the CBOR array [flagKey, targetingKey].
for version in 0.5.2 0.6.1; do
    venv_with openfeature-provider-flagd "$version" ".build/python-flagd-$version"
done
export RAMP_FLAGD_PYTHON="$PWD/.build/python-flagd-0.5.2/bin/python"
export RAMP_FLAGD_PYTHON_NEXT="$PWD/.build/python-flagd-0.6.1/bin/python"

# jsonschema (from PyPI), an independent validator that checks plans/ramp-plan.schema.json against the plans in
# the repository (Tests/Support/check_plan_schema.py).
venv_with jsonschema 4.26.0 .build/python-jsonschema
export RAMP_JSONSCHEMA_PYTHON="$PWD/.build/python-jsonschema/bin/python"

# spotify-confidence (from PyPI), an independent implementation of group-sequential boundaries, with scipy for
# the exit probabilities: Tests/Support/check_group_sequential.py pins ramp's boundaries against both.
venv_with spotify-confidence 4.1.0 .build/python-confidence
export RAMP_CONFIDENCE_PYTHON="$PWD/.build/python-confidence/bin/python"

# GrowthBook's gbstats (from PyPI), an independent implementation of the experiment readout's lift, intervals and
# p-values, fixed-horizon and always-valid: Tests/Support/check_readout.py.
venv_with gbstats 0.8.0 .build/python-gbstats
export RAMP_GBSTATS_PYTHON="$PWD/.build/python-gbstats/bin/python"

swift build --build-tests
# Every plan a test submits successfully is collected here, then checked against the plan schema below.
export RAMP_PLAN_CORPUS="$PWD/.build/plan-corpus"
rm -rf "$RAMP_PLAN_CORPUS"
# Bounded: a test process that crashes or hangs must fail the run, not stall it.
timeout 2400 swift test

# The end-to-end suite again, on PostgreSQL: one private server (initdb into a temporary folder, started as a
# plain process on a free 127.0.0.1 port, as the postgres user when this runs as root, since PostgreSQL refuses
# root), each test's sandbox a database of its own (RAMP_TEST_POSTGRES). Stopped and removed on exit. Tests that
# read the SQLite file itself run in the first pass only; PostgresStoreTests (faults, copy, propagation) in this one.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/ramp-pg-XXXXXX")"
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_postgres() {
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap stop_postgres EXIT
[ "$(id -u)" -ne 0 ] || chown postgres "$pg_dir"
as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U ramp -E UTF8 --no-sync >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -t 60 -l "$pg_dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c max_connections=300" start >/dev/null
RAMP_TEST_POSTGRES="postgresql://ramp@127.0.0.1:$pg_port" timeout 2400 swift test --skip-build --filter RampEndToEndTests
# The schema accepts every plan ramp accepted in the tests (a plan is a file with "steps").
"$RAMP_JSONSCHEMA_PYTHON" Tests/Support/check_plan_schema.py plans/ramp-plan.schema.json "$RAMP_PLAN_CORPUS" >/dev/null \
    || "$RAMP_JSONSCHEMA_PYTHON" Tests/Support/check_plan_schema.py plans/ramp-plan.schema.json "$RAMP_PLAN_CORPUS" | grep -v '^ok '
