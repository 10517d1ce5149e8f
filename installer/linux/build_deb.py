"""Builds desktop-registry_<version>_<arch>.deb from the PyInstaller bundle (Debian, Ubuntu).

Never installs anything and never needs root: the tree is staged in a temp dir and packed by
`fakeroot dpkg-deb` so every file is owned by root in the package.

    python3 installer/linux/build_deb.py [--bundle DIR] [--out DIR] [--compression zstd|xz]
                                         [--level N] [--force]

Layout: the bundle in /opt/desktop-registry, a /usr/bin/desktop-registry launcher, the desktop
entry in /usr/share/applications and the icons in the hicolor theme. dpkg's own triggers
(desktop-file-utils, hicolor-icon-theme) refresh the menus, so no maintainer scripts: `dpkg -r`
leaves nothing behind but the user's data dir.

Compression: zstd by default. xz made a 91 MB package in 385 s on a 2-core machine; zstd -19
packs the same bundle in a fraction of that time for a package a few MB larger, and every dpkg
since 1.21.18 (Debian 12, Ubuntu 22.04) reads it. `--compression xz` for older systems.
The release package keeps zstd -19 (RELEASE_LEVELS); `--level` packs faster for a throwaway
package: the packaging tests use zstd -3 (tests/packaging/conftest.py), the same files in a
package a few MB larger, packed in seconds instead of minutes.

Cache: packing takes minutes on two cores, so a .deb made from a cached bundle is kept beside
it (~/.cache/desktop-registry-bundle/<bundle key>/deb-<key>/), keyed by the bundle's key, this
script, the desktop entry, the icons, the compression and its level; an unchanged tree copies
it to --out in about a second. `--force` packs again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
APP = "desktop-registry"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# What Qt's xcb platform plugin and the window need from the system (the bundle carries Qt).
DEPENDS = [
    "libxcb-cursor0",
    "libxkbcommon-x11-0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-image0",
    "libxcb-xkb1",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
    "libglib2.0-0t64 | libglib2.0-0",
]
# The levels a release is packed with; dpkg-deb's -z for each -Z.
RELEASE_LEVELS = {"zstd": 19, "xz": 6, "gzip": 9}
LAUNCHER = """#!/bin/sh
# Desktop Registry's launcher (the .deb's); the app itself is in /opt/desktop-registry.
exec /opt/desktop-registry/desktop-registry "$@"
"""


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def control(size_kb: int) -> str:
    return (
        f"Package: {APP}\n"
        f"Version: {version()}\n"
        f"Architecture: {architecture()}\n"
        "Maintainer: Desktop Registry maintainers <desktop-registry@users.noreply.github.com>\n"
        f"Installed-Size: {size_kb}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        "Section: devel\n"
        "Priority: optional\n"
        "Homepage: https://github.com/desktop-registry/desktop-registry\n"
        "Description: one registry for every LLM you run\n"
        " Desktop Registry keeps local Ollama models, GitHub Models and OpenAI-compatible\n"
        " servers in one registry, with chat, evaluation, benchmarks and experiments.\n"
        " Fine-tuning (torch, transformers, peft) is not included: install the Python\n"
        " package with pip install 'desktop-registry[finetune]' for that.\n"
    )


def stage(bundle: Path, tree: Path) -> None:
    shutil.copytree(bundle, tree / "opt" / APP, symlinks=True)
    launcher = tree / "usr" / "bin" / APP
    launcher.parent.mkdir(parents=True)
    launcher.write_text(LAUNCHER)
    launcher.chmod(0o755)
    apps = tree / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(HERE / f"{APP}.desktop", apps / f"{APP}.desktop")
    icons = ROOT / "resources" / "icons"
    hicolor = tree / "usr" / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        folder = hicolor / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(icons / f"{APP}-{size}.png", folder / f"{APP}.png")
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(icons / f"{APP}.svg", hicolor / "scalable" / "apps" / f"{APP}.svg")
    doc = tree / "usr" / "share" / "doc" / APP
    doc.mkdir(parents=True)
    (doc / "README").write_text(
        "Desktop Registry: see `desktop-registry --help`. Your registry and settings are in\n"
        "~/.local/share/DesktopRegistry (or DESKTOP_REGISTRY_HOME); removing the package\n"
        "leaves them in place.\n"
    )
    for path in tree.rglob("*"):  # dpkg-deb wants sane modes; the bundle keeps its own x bits
        if path.is_dir():
            path.chmod(0o755)
        elif not path.is_symlink():
            path.chmod(0o755 if os.access(path, os.X_OK) else 0o644)
    size_kb = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())
    debian = tree / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(control(size_kb // 1024 + 1))


def build_deb(bundle: Path, out: Path, compression: str = "zstd", level: int | None = None) -> Path:
    if not (bundle / APP).is_file():
        raise SystemExit(f"No bundle at {bundle}: run python3 installer/build_bundle.py first.")
    for tool in ("dpkg-deb", "fakeroot"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install dpkg-dev fakeroot")
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{APP}_{version()}_{architecture()}.deb"
    level = RELEASE_LEVELS[compression] if level is None else level
    with tempfile.TemporaryDirectory(prefix="desktop-registry-deb-") as tmp:
        tree = Path(tmp) / "tree"
        stage(bundle, tree)
        command = ["fakeroot", "dpkg-deb", f"-Z{compression}", f"-z{level}", "--build"]
        subprocess.run([*command, str(tree), str(target)], check=True, stdout=subprocess.DEVNULL)
    return target


def deb_key(bundle: Path, compression: str, level: int | None = None) -> str:
    """What the .deb is made of, beyond the bundle: the bundle's cache key names the rest."""
    level = RELEASE_LEVELS[compression] if level is None else level
    digest = hashlib.sha256(f"{bundle.parent.name}|{compression}|{level}".encode())
    icons = ROOT / "resources" / "icons"
    for file in [Path(__file__).resolve(), HERE / f"{APP}.desktop", *sorted(icons.glob(f"{APP}*"))]:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def build_or_reuse_deb(
    bundle: Path,
    out: Path | None = None,
    compression: str = "zstd",
    force: bool = False,
    level: int | None = None,
) -> tuple[Path, bool]:
    """The .deb for this bundle from the cache beside it (packed there first if missing), copied
    to `out` when given. Returns the path and whether it was reused. `level` None: the
    release level of `compression`."""
    cache = bundle.parent / f"deb-{deb_key(bundle, compression, level)}"
    cached = cache / f"{APP}_{version()}_{architecture()}.deb"
    reused = cached.is_file() and not force
    if not reused:
        partial = cache.with_name(cache.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        build_deb(bundle, partial, compression, level)
        shutil.rmtree(cache, ignore_errors=True)
        partial.rename(cache)  # whole or not at all: a killed pack is never reused
    if out is None:
        return cached, reused
    out.mkdir(parents=True, exist_ok=True)
    target = out / cached.name
    shutil.copyfile(cached, target)
    return target, reused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="the bundle folder (default: build or reuse)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes")
    parser.add_argument("--compression", choices=["zstd", "xz", "gzip"], default="zstd")
    parser.add_argument(
        "--level", type=int, help="compression level (default: the release's, zstd 19, xz 6)"
    )
    parser.add_argument("--force", action="store_true", help="pack again even if cached")
    args = parser.parse_args(argv)
    bundle = args.bundle
    if bundle is None:
        sys.path.insert(0, str(ROOT / "installer"))
        from build_bundle import build

        bundle = Path(str(build()["bundle"]))
    started = time.perf_counter()
    deb, reused = build_or_reuse_deb(bundle, args.out, args.compression, args.force, args.level)
    print(
        json.dumps(
            {
                "deb": str(deb),
                "deb_mb": round(deb.stat().st_size / 1e6, 1),
                "compression": args.compression,
                "level": RELEASE_LEVELS[args.compression] if args.level is None else args.level,
                "reused": reused,
                "pack_s": round(time.perf_counter() - started, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
