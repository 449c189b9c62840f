#!/usr/bin/env bash
# Prepare this machine for `jiuye dev up`: PostgreSQL server, the Python 3.11 virtualenv with
# the project installed, and the Apache Kafka broker jars (resolved by Maven from Maven
# Central, since there is no Docker engine and no route to the Kafka download mirrors).
# Idempotent: run it again any time; finished steps are skipped or are cheap no-ops.
#
# Usage (from anywhere; it works from the repository root): bash deploy/setup.sh
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$(pwd)"
LOG="$(mktemp -t jiuye-setup.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT

say() { echo "setup: $*"; }

# Run a step with its output kept aside; shown only if it fails.
quietly() {
    local what="$1"; shift
    if ! "$@" >"$LOG" 2>&1; then
        echo "setup: FAILED: $what" >&2
        echo "setup: command: $*" >&2
        tail -n 60 "$LOG" >&2
        exit 1
    fi
}

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: FAILED: $1 needs root (apt-get); run this script as root or install it yourself" >&2
        exit 1
    fi
}

# --- system packages ---------------------------------------------------------------------------
packages=()
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || packages+=(postgresql)
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || packages+=(maven)
# Go builds the production Temporal server of the cluster topology; any Go >= 1.21 will do, it
# fetches the toolchain the server needs (GOTOOLCHAIN) from the Go module proxy.
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || packages+=(golang-go)
# Headless Chromium for the console's browser test (driven by Playwright's Python package through
# executable_path; nothing downloads a browser).
command -v chromium >/dev/null || packages+=(chromium)
command -v chromedriver >/dev/null || packages+=(chromium-driver)
# CJK glyphs, so the console's pages (and its screenshots) show 低保 and the seed's rules.
compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*' >/dev/null || packages+=(fonts-noto-cjk)
if [ "${#packages[@]}" -gt 0 ]; then
    need_root "installing ${packages[*]}"
    say "installing ${packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    quietly "apt-get update" apt-get update -q
    quietly "apt-get install ${packages[*]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
else
    say "PostgreSQL, Java, Maven and Chromium are installed"
fi

# --- Python ------------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    PYTHON="$(command -v python3.11 || true)"
    if [ -z "$PYTHON" ]; then
        echo "setup: FAILED: python3.11 not found on PATH" >&2
        exit 1
    fi
    say "creating .venv with $PYTHON"
    quietly "creating the virtualenv" "$PYTHON" -m venv .venv
else
    say ".venv exists ($(.venv/bin/python --version 2>&1))"
fi

if [ -f constraints.txt ]; then
    say "installing jiuye and its dependencies (pinned by constraints.txt)"
    quietly "pip install" .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
else
    say "installing jiuye and its dependencies (no constraints.txt; unpinned)"
    quietly "pip install" .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
fi

# --- Kafka -------------------------------------------------------------------------------------
# The same code `jiuye dev up` uses, so both agree on version (JIUYE_KAFKA_VERSION) and cache.
say "resolving the Kafka broker jars (Maven; cached after the first time)"
quietly "resolving Kafka jars" .venv/bin/python -c '
from contracts.settings import get_settings
from deploy.stack.kafka import ensure_jars
print(ensure_jars(get_settings().kafka_version))
'
say "Kafka jars in $(tail -n 1 "$LOG")"

# --- Temporal server (cluster topology) ---------------------------------------------------------
# go.temporal.io/server (cmd/server, cmd/tools/sql) built from the Go module proxy, with its
# PostgreSQL schema, cached per version like the Kafka jars (deploy/stack/temporal_cluster.py).
say "building the Temporal server for the cluster topology (Go module proxy; cached after the first time)"
started=$(date +%s)
quietly "building the Temporal server" .venv/bin/python -c '
from deploy.stack.temporal_cluster import ensure_binaries
print(ensure_binaries())
'
say "Temporal server in $(tail -n 1 "$LOG") ($(( $(date +%s) - started )) s)"

say "done; start the stack with: .venv/bin/jiuye dev up   (or: .venv/bin/python -m deploy.cli_dev up)"
