"""Builds the Windows installer (desktop-registry-<version>-setup.exe) with Inno Setup's ISCC.

Never builds the bundle itself on a guess: it checks its inputs first and says what is missing.
`--dry-run` only checks (runs anywhere, e.g. on Linux CI); without it, it needs Windows and
Inno Setup 6 (https://jrsoftware.org/isinfo.php; ISCC.exe on PATH or in its default folder).

    python installer\\build_bundle.py                 (the bundle, on Windows)
    python installer\\windows\\build_installer.py [--bundle DIR] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISS = Path(__file__).resolve().with_name("desktop-registry.iss")
ICON = ROOT / "resources" / "icons" / "desktop-registry.ico"
DEFAULT_ISCC = Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")) / "Inno Setup 6"


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def find_iscc() -> str | None:
    found = shutil.which("ISCC") or shutil.which("iscc")
    if found:
        return found
    candidate = DEFAULT_ISCC / "ISCC.exe"
    return str(candidate) if candidate.is_file() else None


def check(bundle: Path) -> list[str]:
    """What is missing, in words; empty when the installer can be built."""
    problems = [f"{path} is missing" for path in (ISS, ICON) if not path.is_file()]
    if not (bundle / "desktop-registry.exe").is_file():
        problems.append(
            f"no Windows bundle at {bundle} (desktop-registry.exe): run "
            "python installer\\build_bundle.py on Windows and pass --bundle"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "desktop-registry")
    parser.add_argument("--dry-run", action="store_true", help="check the inputs only")
    args = parser.parse_args(argv)
    problems = check(args.bundle)
    iscc = find_iscc()
    report = {
        "iss": str(ISS),
        "icon": str(ICON),
        "bundle": str(args.bundle),
        "version": version(),
        "iscc": iscc,
        "problems": problems,
    }
    if args.dry_run:
        # A dry run on a machine without a Windows bundle checks the script's own inputs.
        own = [p for p in problems if "bundle" not in p]
        print(json.dumps(report | {"dry_run": True}))
        return 1 if own else 0
    if problems or iscc is None:
        for problem in problems or ["Inno Setup's ISCC.exe was not found; install Inno Setup 6"]:
            print(f"cannot build the installer: {problem}", file=sys.stderr)
        return 1
    command = [iscc, f"/DAppVersion={version()}", f"/DBundleDir={args.bundle.resolve()}", str(ISS)]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
