"""Shared fixtures. The tests exercise the *installed* package (``pip install '.[test]'``).

pytest runs with ``--import-mode=importlib`` (pyproject.toml), so the
source tree's ``python/`` folder is never put on ``sys.path`` by pytest; the
check below makes an accidental import from it fail loudly. An editable
install (``pip install -e '.[test]'``), whose ``.pth`` file names that
folder, is an installed package and passes.
"""

from __future__ import annotations

import site
from pathlib import Path

import pytest

import pi
from _helpers import SOURCE_TREE, gpu_or_skip


def pytest_report_header(config: pytest.Config) -> list[str]:
    from pi import _lib

    return [f"pi {pi.__version__} from {Path(pi.__file__).parent}, library {_lib.library_path}"]


def _installed_editable() -> bool:
    """Whether a ``.pth`` file of site-packages puts the source tree on ``sys.path``."""
    for folder in [*site.getsitepackages(), site.getusersitepackages()]:
        for pth in Path(folder).glob("*.pth"):
            lines = pth.read_text(errors="replace").splitlines()
            if any(Path(line.strip()) == SOURCE_TREE for line in lines if line.strip()):
                return True
    return False


def pytest_sessionstart(session: pytest.Session) -> None:
    location = Path(pi.__file__).resolve()
    if SOURCE_TREE in location.parents and not _installed_editable():
        pytest.exit(
            f"pi was imported from the source tree ({location}); install it "
            f"(pip install '.[test]') and run pytest from a clean environment",
            returncode=4,
        )


@pytest.fixture(scope="session")
def gpu_available() -> None:
    """Skips the test unless ``estimate(backend="gpu")`` finds an adapter."""
    try:
        pi.estimate(1, seed=0, backend="gpu")
    except pi.NoDeviceError as e:
        gpu_or_skip(str(e))
