"""The Python examples of README.md run as written: each block as a script (``python file.py``).

Each block runs on its own in a new interpreter, under a timeout, from an
empty folder. A line of the form ``expression  # value`` whose comment starts
with a Python literal (or an ``array(...)``) is a claim: in the script run,
that line becomes ``assert expression == value``, in place.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from _helpers import child_env

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
CLAIM = re.compile(
    r"^(?P<indent>\s*)(?P<expr>[^#\s][^#]*?)\s+#\s+(?P<value>(array\(.*?\)|\[.*?\]|[^\s]+))"
)
TIMEOUT = 600  # seconds for one block (the Dask one starts a cluster)


def _claim(line: str) -> tuple[str, str, str] | None:
    """``(indent, expression, value)`` when ``line`` claims a value."""
    m = CLAIM.match(line)
    if not m:
        return None
    try:
        ast.parse(m["expr"], mode="eval")
        if not m["value"].startswith("array("):
            ast.literal_eval(m["value"])
    except (SyntaxError, ValueError):
        return None
    return m["indent"], m["expr"], m["value"]


def checked(block: str) -> str:
    """``block`` with every claim turned into an assertion on the same line."""
    lines = []
    for line in block.splitlines():
        claim = _claim(line)
        if claim is None:
            lines.append(line)
            continue
        indent, expr, value = claim
        value = value.replace("array(", "__import__('array').array(", 1)
        message = f"README claims {expr} == {claim[2]}"
        lines.append(f"{indent}assert ({expr}) == ({value}), {message!r} + f', got {{{expr}!r}}'")
    return "\n".join(lines) + "\n"


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 5
    claims = [c for block in BLOCKS for c in map(_claim, block.splitlines()) if c]
    assert len(claims) >= 6


def test_a_claim_becomes_an_assertion() -> None:
    script = checked("x = 2\nx + 1   # 3  a comment\nfor i in []:\n    i   # 5\n")
    assert "assert (x + 1) == (3)" in script and "    assert (i) == (5)" in script
    with pytest.raises(AssertionError, match="README claims x \\+ 1 == 4, got 3"):
        exec(checked("x = 2\nx + 1   # 4\n"), {})


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=lambda k: f"block{k + 1}")
def test_readme_python_block_runs_as_a_script(number, tmp_path) -> None:
    script = tmp_path / f"readme_block_{number + 1}.py"
    script.write_text(checked(BLOCKS[number]))
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=TIMEOUT,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, f"README block {number + 1}:\n{BLOCKS[number]}\n{proc.stderr}"
