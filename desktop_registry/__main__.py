"""`python -m desktop_registry` (and the `desktop-registry` launcher): open the window.

Only parses arguments and hands over to ui; no work here at import time.
"""

from __future__ import annotations

import sys


def main() -> int:
    from desktop_registry.ui.launch import run_gui

    return run_gui(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
