"""mkdocs hooks: the generated C reference page, and the browser page in the site.

``on_files`` adds ``reference/c.md``, rendered from include/pi.h by
docs/gen_c_reference.py at every build (nothing generated is committed), and
the files of the browser page (``web/``, ``shaders/pi.wgsl``) at the same
paths as in the repository, so that the site serves the live page at
``web/index.html`` (it fetches ``../shaders/pi.wgsl``) and the guide's links
to it are checked like any other.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
STATIC = [*sorted(p.name for p in (ROOT / "web").iterdir() if p.is_file())]


def _generator():
    path = ROOT / "docs" / "gen_c_reference.py"
    spec = importlib.util.spec_from_file_location("gen_c_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def on_files(files: Files, config) -> Files:
    gen = _generator()
    page = gen.render(gen.HEADER.read_text(encoding="utf-8"))
    files.append(File.generated(config, "reference/c.md", content=page))
    for path in [*(f"web/{name}" for name in STATIC), "shaders/pi.wgsl"]:
        files.append(File(path, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files
