"""Smoke test of an installed pi wheel, run by the python of the venv it is installed in.

Checks that no Rust toolchain is reachable (the wheel must not need one),
that the interpreter runs as the machine PI_SMOKE_MACHINE names (when set:
one half of a universal2 wheel, or the aarch64 wheel under qemu),
that `python -m pi 1e6 --seed 42 --json` counts 785856 hits, and that the
version seen by Python, the command line and the library is one. Run it
from outside the source tree, so that `import pi` finds the installed package.
"""

import json
import os
import platform
import shutil
import subprocess
import sys

import pi
from pi import _lib

for tool in ("cargo", "rustc"):
    where = shutil.which(tool)
    assert where is None, f"{tool} is on PATH ({where}): the smoke test must run without Rust"

machine = os.environ.get("PI_SMOKE_MACHINE")
assert machine in (None, platform.machine()), f"python runs as {platform.machine()}, not {machine}"

run = subprocess.run(
    [sys.executable, "-m", "pi", "1e6", "--seed", "42", "--json"],
    capture_output=True,
    text=True,
    timeout=300,
    check=True,
)
result = json.loads(run.stdout)
assert result["hits"] == 785856 and result["samples"] == 10**6, result

cli_version = subprocess.run(
    [sys.executable, "-m", "pi", "--version"],
    capture_output=True,
    text=True,
    timeout=60,
    check=True,
).stdout.split()
library_version = _lib.ffi.string(_lib.lib.pi_version()).decode()
assert cli_version == ["pi", pi.__version__] and library_version == pi.__version__, (
    cli_version,
    pi.__version__,
    library_version,
)
print(
    f"smoke test passed ({platform.machine()}): pi {pi.__version__} from {pi.__file__}: "
    f"{result['hits']} hits, "
    f"{result['backend']} ({result['device']})"
)
