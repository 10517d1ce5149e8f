"""Builds the one-folder PyInstaller bundle from packaging.spec, or reuses the cached one.

Never reuses a bundle built from other inputs: the cache key hashes the spec, the package's
source and resources, pyproject.toml, the ICU trim script and whether its tools are there, the
installed packages and the Python/OS it runs on. After PyInstaller, installer/trim_icu.py cuts
Qt's ICU data to root and English (18 MB less; skipped, saying so, without icupkg).

    python3 installer/build_bundle.py            # prints {"bundle": …, "reused": …} last
    python3 installer/build_bundle.py --force    # rebuild even when the cache has it

The cache lives in $DESKTOP_REGISTRY_BUNDLE_CACHE or ~/.cache/desktop-registry-bundle; a build
takes two to four minutes on two cores (97-222 s measured, by load), a reuse 0.2 s. The two
newest builds are kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "desktop-registry"
KEEP = 2
TRIM_TOOLS = ("icupkg", "genccode", "ld")
INPUTS = (
    "packaging.spec",
    "pyproject.toml",
    "desktop_registry",
    "resources",
    "installer/trim_icu.py",
)


def cache_root() -> Path:
    named = os.environ.get("DESKTOP_REGISTRY_BUNDLE_CACHE", "").strip()
    return Path(named).expanduser() if named else Path.home() / ".cache" / "desktop-registry-bundle"


def inputs_key() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions())
    digest.update("\n".join(installed).encode())
    digest.update(f"{sys.version}|{platform.platform()}|{platform.machine()}".encode())
    # A bundle built before icu-devtools was installed is not the trimmed one.
    digest.update(str([shutil.which(tool) is not None for tool in TRIM_TOOLS]).encode())
    return digest.hexdigest()[:20]


def executable(bundle: Path) -> Path:
    return bundle / (f"{APP}.exe" if sys.platform == "win32" else APP)


def build(force: bool = False) -> dict[str, object]:
    key = inputs_key()
    root = cache_root()
    target = root / key / APP
    if executable(target).is_file() and not force:
        report = root / key / "trim-icu.json"
        icu = json.loads(report.read_text()) if report.is_file() else None
        return {"bundle": str(target), "reused": True, "key": key, "build_s": 0.0, "icu": icu}
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit(
            "PyInstaller is not installed: pip install -e '.[packaging]' (or pip install "
            "pyinstaller), then run this again."
        ) from None
    started = time.perf_counter()
    staging = root / f"{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(staging), "--workpath", str(root / "work"), str(ROOT / "packaging.spec"),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, check=False)
    if done.returncode != 0 or not executable(staging / APP).is_file():
        raise SystemExit(f"PyInstaller failed (exit {done.returncode}); see its output above.")
    icu = trim_icu(staging / APP)
    (staging / "trim-icu.json").write_text(json.dumps(icu))
    shutil.rmtree(root / key, ignore_errors=True)
    staging.rename(root / key)  # whole or not at all: a killed build is never reused
    _prune(root, keep=key)
    return {
        "bundle": str(target),
        "reused": False,
        "key": key,
        "build_s": round(time.perf_counter() - started, 1),
        "icu": icu,
    }


def trim_icu(bundle: Path) -> dict[str, object]:
    """Qt's ICU data cut to root and English in place, or why not (the bundle then works with
    every locale's data, 18 MB larger)."""
    sys.path.insert(0, str(ROOT / "installer"))
    from trim_icu import TrimError, trim

    try:
        report = trim(bundle)
    except TrimError as exc:  # an ICU this script does not know: keep it whole, say so
        report = {"trimmed": False, "reason": str(exc)}
    if not report["trimmed"]:
        print(f"build_bundle: Qt's ICU data not trimmed: {report['reason']}", file=sys.stderr)
    if "library" in report:  # where it is in the bundle, not in the staging folder
        report["library"] = str(Path(str(report["library"])).relative_to(bundle))
    return report


def _prune(root: Path, keep: str) -> None:
    builds = [p for p in root.iterdir() if p.is_dir() and executable(p / APP).is_file()]
    builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [b for b in builds if b.name != keep][KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    print(json.dumps(build(force=args.force)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
