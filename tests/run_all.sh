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
#
# PI_TEST_WHEEL=FILE.whl tests that wheel instead of a build of the source
# tree: it goes into a cleared venv, and ruff and pytest run with no cargo or
# rustc on PATH (.ci/run passes the wheel .ci/wheel built).
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

if [ -n "${PI_TEST_WHEEL:-}" ]; then
    step "pip install $PI_TEST_WHEEL[test] into a cleared $venv"
    python3 -m venv --clear "$venv"
    package="$PI_TEST_WHEEL[test]"
    run_py() { bash .ci/without-rust "$@"; }
else
    step "pip install '.[test]' into $venv"
    python3 -m venv "$venv"
    package=".[test]"
    run_py() { "$@"; }
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$package"
step "ruff"
run_py "$venv/bin/ruff" check python tests/python
run_py "$venv/bin/ruff" format --check python tests/python
step "pytest"
run_py "$venv/bin/python" -m pytest

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
