"""Walks the Python table of docs/bad-input.md: every row is evaluated as
written and must raise the exception in its row, with a message that names
the argument, in a message of reasonable length. Generators count as called once
their first item is asked for."""

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


@pytest.mark.parametrize(("call", "argument", "error"), ROWS, ids=[r[0] for r in ROWS])
def test_row(call: str, argument: str, error: str) -> None:
    with pytest.raises(ERRORS[error]) as caught:
        result = eval(call, {"pi": pi, "np": np, "array": array})
        next(result)  # a generator that did not raise on the call
    assert type(caught.value) is ERRORS[error]
    assert argument in str(caught.value)
    assert len(str(caught.value)) < 400  # huge values are shown by size, long texts cut
