"""`python -m desktop_registry` (and the `desktop-registry` launcher): open the window.

Only parses arguments and hands over to ui or the self-test; no work here at import time.
"""

from __future__ import annotations

import argparse
import os
import sys


def _arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="desktop-registry", description="Desktop Registry: one registry for every LLM."
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this build headless (registry, MLflow, Optuna, window) in a temp folder, "
        "print a JSON summary and exit 0 if everything works",
    )
    parser.add_argument(
        "--ollama-url", help="with --self-test: also sync against the Ollama at this URL"
    )
    parser.add_argument(
        "--screenshots",
        metavar="DIR",
        help="with --self-test: save the window and the About box as PNGs in DIR (on the "
        "real display when there is one, e.g. under xvfb-run)",
    )
    # Qt's own options (-platform, -style …) pass through to QApplication.
    return parser.parse_known_args(argv)


def main() -> int:
    args, rest = _arguments(sys.argv[1:])
    if args.self_test:
        from desktop_registry.self_test import run_self_test

        code = run_self_test(args.ollama_url, screenshots=args.screenshots)
        # Everything is closed and the summary printed; skip the interpreter's teardown, where
        # Qt's own threads (xcb's event reader) may abort the process after a clean run.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    from desktop_registry.ui.launch import run_gui

    return run_gui([sys.argv[0], *rest])


if __name__ == "__main__":
    sys.exit(main())
