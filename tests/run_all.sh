#!/usr/bin/env bash
# Every check of the project, in the order a failure is cheapest to find:
# formatting and lints, the Rust tests (stream, CPU, GPU, engine, header,
# C / C++ / Fortran consumers, valgrind), then the Python package installed
# into a fresh virtual environment and its pytest suite, then the browser
# page's tests (Node, Chromium).
#
# Needs Rust and Python 3 (and Node 20+ with npm for the browser tests). Tests
# that need an optional system part (a Vulkan driver, gfortran, valgrind,
# Chromium) skip with a visible reason; PI_REQUIRE_ALL=1
# turns those skips into failures (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${PI_TEST_VENV:-.venv-test}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
step "cargo test"
cargo test --quiet

step "pip install '.[test]' into $venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[test]"
step "ruff"
"$venv/bin/ruff" check python tests/python
"$venv/bin/ruff" format --check python tests/python
step "pytest"
"$venv/bin/python" -m pytest

# The browser page: Node's test runner drives Chromium (playwright-core from the
# committed package-lock.json). Without Node the step skips visibly; under
# PI_REQUIRE_ALL=1 that is a failure. The tests themselves skip (or fail) the same
# way when Chromium is missing.
step "browser page: node --test tests/web/"
if command -v node >/dev/null && command -v npm >/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    node --test tests/web/
elif [ "${PI_REQUIRE_ALL:-0}" != "0" ]; then
    echo "PI_REQUIRE_ALL=1 but no node/npm for the browser tests" >&2
    exit 1
else
    echo "SKIPPED: no node/npm (the browser tests need Node 20+ and npm)"
fi
