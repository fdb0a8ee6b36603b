"""The examples of README.md and of the guide (docs/*.md) run as written.

Every fenced block in one of these languages runs, in a folder of its page
(blocks of one page share it, in order), under a timeout:

- ``python``: as a script (``python file.py``) in a new interpreter. A line
  ``expression  # value`` whose comment starts with a Python literal (or an
  ``array(...)``) is a claim: in the script run, that line becomes
  ``assert expression == value``, in place.
- ``console``: each ``$ command`` line runs in bash; the lines after it, up
  to the next ``$``, are its output (stdout and stderr together), where
  ``...`` stands for any text.
- ``sh``: the whole block runs in ``bash -eu`` and must succeed.
- ``c``: a block with ``int main`` is compiled against the installed
  package's header and library, and run; a ``// prints: TEXT`` line is its
  output, ``...`` standing for any text. A block with ``title="NAME"`` is
  also written to that file of the page's folder first.

A block that must not run (it installs, builds for minutes, starts a
server, needs a cluster) has ``<!-- not run: REASON -->`` on the line just
above it; its test is skipped with that reason, so the summary says why.
``python``, ``sh``, ``console`` and ``c`` are the only languages run; other
blocks (``text``, ``toml``, ...) show things that are not commands.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from _helpers import child_env, require_all

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = ("python", "console", "sh", "c")
FENCE = re.compile(
    r"^(?P<fence>```+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
CLAIM = re.compile(
    r"^(?P<indent>\s*)(?P<expr>[^#\s][^#]*?)\s+#\s+(?P<value>(array\(.*?\)|\[.*?\]|\(.*?\)|[^\s]+))"
)
TIMEOUT = 600  # seconds for one block (the Dask one starts a cluster)


@dataclass
class Block:
    """One fenced block of a page."""

    page: Path
    line: int
    language: str
    title: str | None
    body: str
    not_run: str | None  # the reason, for a block marked not to run

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, each with the ``not run`` reason above it."""
    text = page.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = NOT_RUN.fullmatch(before.strip())
        info = m["info"].strip()
        title = TITLE.search(info)
        found.append(
            Block(
                page=page,
                line=text.count("\n", 0, m.start()) + 1,
                language=info.split(" ", 1)[0],
                title=title["title"] if title else None,
                body=m["body"],
                not_run=marker["reason"] if marker else None,
            )
        )
    return found


BLOCKS = [b for page in PAGES for b in blocks_of(page) if b.language in RUN]


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
        message = f"the docs claim {expr} == {claim[2]}"
        lines.append(f"{indent}assert ({expr}) == ({value}), {message!r} + f', got {{{expr}!r}}'")
    return "\n".join(lines) + "\n"


def matches(expected: str, output: str) -> bool:
    """Whether ``output`` is ``expected``, each ``...`` standing for any text."""
    pattern = ".*?".join(re.escape(part) for part in expected.strip().split("..."))
    return re.fullmatch(pattern, output.strip(), flags=re.S) is not None


def _env() -> dict[str, str]:
    """The children's environment: ``python`` on PATH is this interpreter."""
    env = child_env()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, env=_env(), timeout=TIMEOUT, cwd=folder
    )


def _bash() -> str:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on PATH for the shell examples")
    return bash


def commands(body: str) -> list[tuple[str, str]]:
    """``(command, expected output)`` pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
    return [(command, "\n".join(out)) for command, out in pairs]


def run_console(block: Block, folder: Path) -> None:
    bash = _bash()
    for command, expected in commands(block.body):
        proc = _run([bash, "-c", command], folder)
        output = proc.stdout + proc.stderr
        assert matches(expected, output), (
            f"{block.id}: `{command}` printed\n{output}\nnot\n{expected}"
        )


def run_python(block: Block, folder: Path) -> None:
    script = folder / f"block_{block.line}.py"
    script.write_text(checked(block.body), encoding="utf-8")
    proc = _run([sys.executable, str(script)], folder)
    assert proc.returncode == 0, f"{block.id}:\n{block.body}\n{proc.stderr}"


def run_sh(block: Block, folder: Path) -> None:
    proc = _run([_bash(), "-euc", block.body], folder)
    assert proc.returncode == 0, f"{block.id}:\n{block.body}\n{proc.stdout}{proc.stderr}"


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def _installed_library() -> tuple[Path, Path]:
    """The installed package's header and the library it loads."""
    import pi
    from pi import _lib

    header = Path(pi.__file__).parent / "include" / "pi.h"
    where = Path(_lib.library_path)
    if where.is_dir():
        libraries = [p for p in where.iterdir() if p.suffix in (".so", ".dylib")]
        assert libraries, f"no library in {where}"
        where = libraries[0]
    return header, where


def run_c(block: Block, folder: Path) -> None:
    if "int main" not in block.body:
        return  # a fragment; the reference shows whole declarations
    cc = _compiler()
    if cc is None or os.name != "posix":
        reason = "no C compiler (cc) to build the C examples" if cc is None else "POSIX only"
        if require_all() and cc is None:
            pytest.fail(f"PI_REQUIRE_ALL=1 but {reason}")
        pytest.skip(reason)
    header, library = _installed_library()
    source = folder / (block.title or f"block_{block.line}.c")
    source.write_text(block.body, encoding="utf-8")
    exe = folder / f"block_{block.line}"
    build = [cc, "-std=c99", f"-I{header.parent}", str(source), str(library), "-lm"]
    build += [f"-Wl,-rpath,{library.parent}", "-o", str(exe)]
    proc = _run(build, folder)
    assert proc.returncode == 0, f"{block.id} does not compile:\n{proc.stderr}"
    proc = _run([str(exe)], folder)
    assert proc.returncode == 0, f"{block.id} exited {proc.returncode}:\n{proc.stderr}"
    for expected in re.findall(r"^// prints: (.*)$", block.body, flags=re.M):
        assert matches(expected, proc.stdout), f"{block.id} printed {proc.stdout!r}, not {expected}"


RUNNERS = {"python": run_python, "console": run_console, "sh": run_sh, "c": run_c}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """One folder per page, holding the page's titled blocks as files."""
    made = {}
    for page in PAGES:
        folder = tmp_path_factory.mktemp(page.stem)
        for block in blocks_of(page):
            if block.title:
                (folder / block.title).write_text(block.body, encoding="utf-8")
        made[page] = folder
    return made


def test_the_pages_have_examples_that_run() -> None:
    running = [b for b in BLOCKS if b.not_run is None]
    assert {b.language for b in running} >= {"python", "console", "c"}
    readme = [b for b in running if b.page.name == "README.md"]
    assert {b.language for b in readme} >= {"python", "console", "c"}
    claims = [
        c for b in running if b.language == "python" for c in map(_claim, b.body.splitlines())
    ]
    assert len([c for c in claims if c]) >= 15


def test_every_not_run_marker_stands_above_a_block_with_a_reason() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        markers = len(NOT_RUN.findall(text))
        marked = [b for b in blocks_of(page) if b.not_run is not None]
        assert markers == len(marked), f"{page.name}: a `not run` marker above no block"
        assert all(b.not_run for b in marked), f"{page.name}: a `not run` marker without a reason"


def test_a_claim_becomes_an_assertion() -> None:
    script = checked("x = 2\nx + 1   # 3  a comment\nfor i in []:\n    i   # 5\n")
    assert "assert (x + 1) == (3)" in script and "    assert (i) == (5)" in script
    with pytest.raises(AssertionError, match="the docs claim x \\+ 1 == 4, got 3"):
        exec(checked("x = 2\nx + 1   # 4\n"), {})


def test_shown_output_matches_with_ellipses_only() -> None:
    assert matches('{..."hits": 785856...}', '{"pi": 3.1, "hits": 785856, "seed": 42}\n')
    assert not matches('{..."hits": 785856...}', '{"pi": 3.1, "hits": 785857}')
    assert commands("$ a\nx\ny\n$ b\n") == [("a", "x\ny"), ("b", "")]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_example_runs_as_shown(block: Block, folders: dict[Path, Path]) -> None:
    if block.not_run is not None:
        pytest.skip(f"{block.id} not run: {block.not_run}")
    RUNNERS[block.language](block, folders[block.page])
