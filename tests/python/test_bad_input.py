"""Walks the Python table of docs/bad-input.md: every row is evaluated as
written and must raise the exception in its row, with a message of reasonable
length that names the argument, and leave its NumPy output untouched.
Generators count as called once their first item is asked for."""

from __future__ import annotations

import re
from array import array
from pathlib import Path

import numpy as np
import pytest

import pi

DOC = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
ROWS = re.findall(r"^\| `(pi\..*?)` \| (\w+) \| `(\w+Error)` \|$", DOC.read_text(), flags=re.M)
ERRORS = {"TypeError": TypeError, "ValueError": ValueError, "MemoryError": MemoryError}


def test_the_table_is_all_here(capsys: pytest.CaptureFixture) -> None:
    python_section = DOC.read_text().split("## Python", 1)[1]
    assert len(ROWS) == python_section.count("\n| `pi.") >= 60
    with capsys.disabled():
        print(f"\n[reliability] bad input: {len(ROWS)} Python rows of docs/bad-input.md")


class MarkedNumpy:
    """NumPy whose ``zeros`` fills with a marker and remembers each array, to check it after."""

    def __init__(self) -> None:
        self.made: list[tuple[np.ndarray, np.ndarray]] = []

    def zeros(self, *args, **kwargs) -> np.ndarray:
        made = np.zeros(*args, **kwargs)
        if made.dtype.kind in "uif":
            made[...] = 77
        self.made.append((made, made.copy()))
        return made

    def __getattr__(self, name: str):
        return getattr(np, name)


@pytest.mark.parametrize(("call", "argument", "error"), ROWS, ids=[r[0] for r in ROWS])
def test_row(call: str, argument: str, error: str) -> None:
    marked = MarkedNumpy()
    with pytest.raises(ERRORS[error]) as caught:
        result = eval(call, {"pi": pi, "np": marked, "array": array})
        next(result)  # a generator that did not raise on the call
    for made, before in marked.made:  # no output written
        assert np.array_equal(made, before)
    assert type(caught.value) is ERRORS[error]
    assert argument in str(caught.value)
    assert len(str(caught.value)) < 400  # huge values are shown by size, long texts cut
