"""The C ABI reference page, generated from include/pi.h's comments.

Every ``#define``, ``typedef`` and function prototype of the header becomes an
entry: its declaration as C, then the comment above it as prose. A new export
of src/ffi.rs reaches the page through the header cbindgen writes
(``PI_UPDATE_HEADER=1 cargo test --test header``); nothing is copied by hand.

The site's hook (docs/hooks.py) runs this at every build; on its own,
``python docs/gen_c_reference.py [OUT.md]`` prints the page or writes it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

HEADER = Path(__file__).resolve().parents[1] / "include" / "pi.h"

_KINDS = {"define": "Constants", "typedef": "Types", "function": "Functions"}
_NAME = {
    "define": re.compile(r"#define\s+(\w+)"),
    # `typedef struct pi_engine pi_engine;` or `typedef int32_t (*pi_progress_fn)(...);`
    "typedef": re.compile(r"\(\s*\*\s*(\w+)\s*\)|(\w+)\s*;\s*$"),
    "function": re.compile(r"(\w+)\s*\("),
}


@dataclass
class Entry:
    """One declaration of the header and the comment above it."""

    kind: str  # "define", "typedef" or "function"
    name: str
    declaration: str
    comment: list[str]


def _kind(line: str) -> str | None:
    if line.startswith("#define") and not line.startswith("#define PI_H"):
        return "define"
    if line.startswith("typedef"):
        return "typedef"
    if re.match(r"[A-Za-z_][\w \*]*\bpi_\w+\s*\(", line):
        return "function"
    return None


def parse(text: str) -> tuple[str, list[Entry]]:
    """The header's opening comment and its entries, in the header's order."""
    intro = ""
    block = re.match(r"\s*/\*(.*?)\*/", text, flags=re.S)
    if block:
        intro = "\n".join(re.sub(r"^\s*\* ?", "", line) for line in block[1].splitlines())
    entries: list[Entry] = []
    comment: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("//"):
            comment.append(line[2:].removeprefix(" "))
        elif (kind := _kind(line)) is not None:
            declaration = [line]
            while kind != "define" and not declaration[-1].rstrip().endswith(";"):
                i += 1
                declaration.append(lines[i])
            decl = "\n".join(declaration)
            name = _NAME[kind].search(decl)
            if name is None:
                raise ValueError(f"include/pi.h line {i + 1}: no name in {decl!r}")
            entries.append(Entry(kind, name[1] or name[2], decl, comment))
            comment = []
        else:
            comment = []
        i += 1
    return intro.strip(), entries


def _escape(text: str) -> str:
    """``*`` outside code spans kept literal (``PI_ERROR_*``, ``*hits_out``)."""
    parts = text.split("`")
    return "`".join(p if k % 2 else p.replace("*", r"\*") for k, p in enumerate(parts))


def _prose(comment: list[str]) -> str:
    """The comment as Markdown: paragraphs kept, ``# Safety`` as a bold lead."""
    out = []
    for line in comment:
        heading = re.match(r"#\s+(\w.*)", line)
        out.append(f"**{heading[1]}.**" if heading else _escape(line))
    return "\n".join(out).strip()


def render(text: str) -> str:
    """The reference page for the header ``text``."""
    intro, entries = parse(text)
    page = [
        "# C ABI reference",
        "",
        "Generated from the comments of `include/pi.h` (itself generated from",
        "`src/ffi.rs` by cbindgen) at every build of this site: every constant,",
        "type and function of the header, in the header's order. The guide to",
        "using it is [C, C++ and Fortran](../c.md).",
        "",
        "```c",
        '#include "pi.h"   /* C99; extern "C" guards for C++ */',
        "```",
        "",
        "## Overview",
        "",
        _escape(intro),
        "",
    ]
    for kind, title in _KINDS.items():
        page += [f"## {title}", ""]
        for entry in (e for e in entries if e.kind == kind):
            page += [
                f"### `{entry.name}` {{#{entry.name}}}",
                "",
                "```c",
                entry.declaration,
                "```",
                "",
            ]
            page += [_prose(entry.comment) or "(No comment in the header.)", ""]
    return "\n".join(page)


def main(argv: list[str]) -> int:
    page = render(HEADER.read_text(encoding="utf-8"))
    if len(argv) > 1:
        Path(argv[1]).write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
