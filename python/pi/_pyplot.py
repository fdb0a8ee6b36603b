"""matplotlib for the package's plots (``python -m pi plot``, ``python -m pi bench --out``).

The one place that imports it: on the Agg backend (files only, no window, no
display needed), and with one message, naming the ``plot`` extra, when it is
missing.
"""

from __future__ import annotations

from typing import Any

#: How to get matplotlib, for the messages of a plot that cannot be drawn.
HINT = "pip install matplotlib (the 'plot' extra)"


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend; ``RuntimeError`` saying how to install it when
    matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError(f"matplotlib is not installed: {HINT}") from None
    return plt
