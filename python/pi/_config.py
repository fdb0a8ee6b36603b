"""``python -m pi config``: what a C, C++ or Fortran compiler needs to use this package's library.

The wheel carries the C header and the Fortran module source in
``pi/include/`` (``pi.h``, ``pi.f90``) and the library itself beside its cffi
module; this prints their places, as ``numpy.get_include()`` and
``pybind11 --includes`` do::

    cc app.c $(python -m pi config --cflags) $(python -m pi config --libs) -o app

``--libs`` adds an rpath, so the program finds the library without
``LD_LIBRARY_PATH``. With ``PI_LIBRARY`` set, the library named there is the
one used.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

__all__ = ["FLAGS", "add_arguments", "includedir", "libdir", "library", "main"]


def includedir() -> str:
    """The folder of ``pi.h`` and ``pi.f90`` in the installed package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")


def library() -> str:
    """The path of the library the package loads."""
    from ._lib import LIBRARY_ENV, library_path

    if os.environ.get(LIBRARY_ENV):
        return library_path
    names = {"win32": ("pi.dll",), "darwin": ("libpi.dylib",)}.get(sys.platform, ("libpi.so",))
    for name in [*names, *sorted(os.listdir(library_path))]:
        path = os.path.join(library_path, name)
        if name.endswith((".so", ".dylib", ".dll")) and os.path.isfile(path):
            return path
    raise RuntimeError(f"no native library in {library_path}; reinstall the package")


def libdir() -> str:
    """The folder of the library the package loads."""
    return os.path.dirname(library())


def _link_name(path: str) -> str:
    """``pi`` for ``libpi.so`` or ``pi.dll``: what ``-l`` takes."""
    stem = os.path.basename(path).split(".")[0]
    return stem[3:] if stem.startswith("lib") else stem


def _libs() -> str:
    path = library()
    folder = os.path.dirname(path)
    name = _link_name(path)
    if sys.platform == "win32":
        return f"-L{shlex.quote(folder)} -l{name}"
    if os.path.basename(path) != f"lib{name}{os.path.splitext(path)[1]}":
        # Not a name `-l` finds (a renamed PI_LIBRARY): link to the file.
        return f"{shlex.quote(path)} -Wl,-rpath,{shlex.quote(folder)}"
    return f"-L{shlex.quote(folder)} -Wl,-rpath,{shlex.quote(folder)} -l{name}"


def _cflags() -> str:
    return f"-I{shlex.quote(includedir())}"


def _fortran_module() -> str:
    return os.path.join(includedir(), "pi.f90")


#: The options and what each prints.
FLAGS = {
    "cflags": ("the compiler flags: -I of the folder of pi.h", _cflags),
    "libs": ("the linker flags: -L, an rpath and -lpi", _libs),
    "includedir": ("the folder of pi.h and pi.f90", includedir),
    "libdir": ("the folder of the library", libdir),
    "fortran-module": ("the Fortran module source, pi.f90", _fortran_module),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m pi config``: one or more of ``FLAGS``."""
    for name, (text, _) in FLAGS.items():
        parser.add_argument(f"--{name}", action="store_true", help=f"print {text}")


def main(args: argparse.Namespace) -> int:
    """Prints what each option given asks for, on one line; all of them without options."""
    wanted = [name for name in FLAGS if getattr(args, name.replace("-", "_"))]
    if not wanted:
        for name, (_, value) in FLAGS.items():
            print(f"{name}: {value()}")
        return 0
    print(" ".join(FLAGS[name][1]() for name in wanted))
    return 0
