"""The documentation's rules that need no site build (``bash .ci/docs`` builds it, strict).

- README.md is the package index page (the wheel's long description): at
  most 200 lines, and no relative link or image, which break there; no home
  address is invented (``[project.urls]`` stays empty until there is one).
- The C ABI reference, generated from include/pi.h, has every constant,
  type and function of the header; the header is read here by a separate
  rule from the generator's.
- The Python reference (``::: pi``) documents each name of ``pi.__all__``
  from its own docstring; the package docstring stays short.
- Every page of docs/ is in the site's navigation.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

import pi

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
HEADER = ROOT / "include" / "pi.h"
MAX_README_LINES = 200


def _generator():
    path = ROOT / "docs" / "gen_c_reference.py"
    spec = importlib.util.spec_from_file_location("gen_c_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_readme_has_no_relative_link_or_image() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(\s*<?([^)\s>]*)", text)  # [text](target), ![alt](target)
    targets += re.findall(r"^\s*\[[^\]]+\]:\s*(\S+)", text, flags=re.M)  # [ref]: target
    targets += re.findall(r"<(?:img|a)\b[^>]*(?:src|href)\s*=\s*[\"']([^\"']*)", text, flags=re.I)
    relative = [t for t in targets if not re.match(r"(https?:|mailto:)", t)]
    assert relative == [], f"relative links or images in README.md: {relative}"


def test_no_home_address_is_invented() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    urls = re.search(r"^\[project\.urls\]\n(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    entries = [] if urls is None else re.findall(r"^\s*[\w\"'-][^=\n]*=", urls[1], flags=re.M)
    assert entries == [], f"[project.urls] names addresses: {entries}"


def _header_names() -> dict[str, set[str]]:
    text = HEADER.read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    defines = set(re.findall(r"^#define\s+(PI_\w+)\s+\S", code, flags=re.M))
    typedefs = re.findall(r"^typedef\b[^;]*;", code, flags=re.M)
    pointer, plain = re.compile(r"\(\s*\*\s*(\w+)\s*\)"), re.compile(r"(\w+)\s*;$")
    types = {(pointer.search(t) or plain.search(t))[1] for t in typedefs}
    functions = set(re.findall(r"\b(pi_\w+)\s*\([^;]*\)\s*;", code))
    return {"define": defines - {"PI_H"}, "typedef": types, "function": functions}


def test_the_header_is_read_whole() -> None:
    names = _header_names()
    assert {"pi_engine_new", "pi_count_hits", "pi_abi_version"} <= names["function"]
    assert {"PI_OK", "PI_ABI_VERSION", "PI_BACKEND_GPU"} <= names["define"]
    assert names["typedef"] >= {"pi_engine"}


@pytest.mark.parametrize("kind", ["define", "typedef", "function"])
def test_the_c_reference_has_every_name_of_the_header(kind: str) -> None:
    gen = _generator()
    page = gen.render(HEADER.read_text(encoding="utf-8"))
    headings = set(re.findall(r"^### `(\w+)`", page, flags=re.M))
    missing = _header_names()[kind] - headings
    assert missing == set(), f"include/pi.h names missing from the C reference: {sorted(missing)}"
    _, entries = gen.parse(HEADER.read_text(encoding="utf-8"))
    bare = [e.name for e in entries if not e.comment]
    assert bare == [], f"declarations of include/pi.h without a comment: {bare}"


def test_the_c_reference_reads_a_function_pointer_type() -> None:
    header = (
        "// Called with progress.\ntypedef int32_t (*pi_cb)(void *user_data,\n"
        "                         uint64_t done);\n\n// Counts.\nint32_t pi_f(pi_cb cb);\n"
    )
    _, entries = _generator().parse(header)
    assert [(e.kind, e.name, e.comment) for e in entries] == [
        ("typedef", "pi_cb", ["Called with progress."]),
        ("function", "pi_f", ["Counts."]),
    ]


def test_the_c_reference_keeps_a_comment_whole() -> None:
    gen = _generator()
    header = (
        "// Makes one.\n//\n// # Safety\n// `p` is `*ok*`, PI_ERROR_*.\nint32_t pi_x(int *p);\n"
    )
    _, entries = gen.parse(header)
    assert [(e.kind, e.name) for e in entries] == [("function", "pi_x")]
    page = gen.render(header)
    assert "Makes one.\n\n**Safety.**\n`p` is `*ok*`, PI_ERROR_\\*." in page


def test_the_python_reference_documents_every_public_name() -> None:
    page = (ROOT / "docs" / "reference" / "python.md").read_text(encoding="utf-8")
    assert re.search(r"^::: pi\s*$", page, flags=re.M), "the reference is generated by ::: pi"
    undocumented = [n for n in pi.__all__ if n != "__version__" and not getattr(pi, n).__doc__]
    assert undocumented == []
    init = (ROOT / "python" / "pi" / "__init__.py").read_text(encoding="utf-8")
    assert '__version__: str = _version()\n"""' in init, "__version__ has an attribute docstring"
    assert len(pi.__doc__.splitlines()) <= 15, "the package docstring points to the functions'"


def test_every_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = set(re.findall(r"^\s*- (?:[^:\n]+: )?(\S+\.md)\s*$", config, flags=re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - nav == set(), f"pages not in mkdocs.yml's nav: {sorted(pages - nav)}"
    assert "reference/c.md" in nav  # generated at build time by docs/hooks.py
