"""The Python examples of README.md run as written against the installed package.

Every ```python block runs, in order, in one namespace. A line of the form
``expression  # value`` whose comment starts with a Python literal (or an
``array(...)``) is also checked: the expression must equal that value.
"""

from __future__ import annotations

import ast
import re
from array import array
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
CLAIM = re.compile(r"^(?P<expr>[^#\s][^#]*?)\s+#\s+(?P<value>(array\(.*?\)|[^\s]+))")


def _claims(block: str) -> list[tuple[str, str]]:
    found = []
    for line in block.splitlines():
        m = CLAIM.match(line)
        if not m:
            continue
        try:
            ast.parse(m["expr"], mode="eval")
            value = m["value"]
            if not value.startswith("array("):
                ast.literal_eval(value)
        except (SyntaxError, ValueError):
            continue
        found.append((m["expr"], value))
    return found


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3
    assert sum(len(_claims(b)) for b in BLOCKS) >= 5


def test_readme_python_examples_run_and_their_values_hold(capsys: pytest.CaptureFixture) -> None:
    namespace: dict = {}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)
        for expr, value in _claims(block):
            got = eval(expr, namespace)
            want = eval(value, {"array": array})
            assert got == want, f"README claims {expr} == {value}, got {got!r}"
