"""Trims the bundle's ICU data library (Qt's libicudata, ~32 MB) to root and English (~14 MB).

Qt links ICU for collation (QCollator), case mapping and text codecs; the data library carries
every CLDR locale. This keeps every item that is not locale data (converters, normalization,
break-iterator rules and dictionaries, time zones, the root collation) and the root and English
resource bundles of each tree (curr, lang, region, unit, zone, coll, brkitr, rbnf, translit),
and drops the locale bundles of every other language. A German or Japanese locale then falls
back to ICU's root data: root (Unicode) collation order, English names; Qt's own QLocale data
(number and date formats, month names) is not ICU's and is unaffected.

How: the .dat package is cut out of the library's `icudt<N>_dat` symbol, items are removed with
Debian's `icupkg` (package icu-devtools), and the result is turned back into a shared library
with `genccode -o` and `ld` under the same soname. Without those tools the bundle is left as it
is, with a message. Linux only (the macOS and Windows wheels' ICU is another story).

It also strips the symbol tables of ICU's two code libraries beside it (libicuuc, libicui18n:
1.4 MB), which the spec's strip pass skips for their $ORIGIN RUNPATH: they are Qt's own builds,
not auditwheel-patched, and the self-test's collation check runs against the stripped ones.

    python3 installer/trim_icu.py BUNDLE_OR_LIBRARY [--keep en,fr]   # prints a JSON line last
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

TOOLS = ("icupkg", "genccode", "ld")
KEEP = ("en",)  # languages kept beside root: the app's text is English
# A locale item: root, or a 2-3 letter language with optional _Script/_REGION/__VARIANT parts.
LOCALE_ITEM = re.compile(r"^(?P<lang>root|[a-z]{2,3})(_[A-Za-z0-9_]*)?\.res$")
SYMBOL = re.compile(rb"^icudt\d+_dat$")
ICU_MAGIC = b"\xda\x27"  # bytes 2-3 of every ICU data header


class TrimError(RuntimeError):
    """The library is not what this script knows how to trim; the bundle is left unchanged."""


def find_library(target: Path) -> Path | None:
    if target.is_file():
        return target
    found = sorted(p for p in target.rglob("libicudata.so*") if p.is_file() and not p.is_symlink())
    return found[0] if found else None


def embedded_data(library: Path) -> tuple[str, bytes]:
    """The entry-point name (icudt73) and the .dat bytes behind its `icudt73_dat` symbol, read
    from the ELF64 little-endian dynamic symbol table."""
    elf = library.read_bytes()
    if elf[:6] != b"\x7fELF\x02\x01":
        raise TrimError(f"{library.name} is not a 64-bit little-endian ELF library")
    shoff, shentsize, shnum = (struct.unpack_from("<Q", elf, 0x28)[0],
                               *struct.unpack_from("<HH", elf, 0x3A))  # fmt: skip
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strtab = sections[link][4]
        for at in range(offset, offset + size, entsize):
            name_at, _, _, index, value, length = struct.unpack_from("<IBBHQQ", elf, at)
            name = elf[strtab + name_at : elf.index(b"\0", strtab + name_at)]
            if not SYMBOL.match(name) or index == 0 or index >= len(sections):
                continue
            addr, file_offset = sections[index][3], sections[index][4]
            start = file_offset + value - addr
            data = elf[start : start + length]
            if data[2:4] != ICU_MAGIC:
                raise TrimError(f"{name.decode()} in {library.name} does not hold ICU data")
            return name.decode().removesuffix("_dat"), data
    raise TrimError(f"no icudt*_dat symbol in {library.name}")


def removable(items: list[str], keep: tuple[str, ...] = KEEP) -> list[str]:
    """The locale bundles of languages other than root and `keep`, in any tree."""
    out = []
    for item in items:
        match = LOCALE_ITEM.match(item.rsplit("/", 1)[-1])
        if match and match["lang"] not in ("root", *keep):
            out.append(item)
    return out


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TrimError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def list_items(dat: Path) -> list[str]:
    return [line.strip() for line in _run("icupkg", "-l", str(dat)).splitlines() if line.strip()]


def strip_code_libraries(library: Path) -> list[str]:
    """ICU's other libraries beside `library`, stripped of their symbol tables (a no-op on
    stripped ones). Returns their names; none without `strip`."""
    if shutil.which("strip") is None:
        return []
    names = []
    for other in sorted(library.parent.glob("libicu*.so*")):
        if other.is_symlink() or not other.is_file() or other.name.startswith("libicudata"):
            continue
        _run("strip", "--strip-unneeded", str(other))
        names.append(other.name)
    return names


def trim(target: Path, keep: tuple[str, ...] = KEEP) -> dict[str, object]:
    """Trims the libicudata in `target` (a bundle folder or the library) in place and strips
    ICU's code libraries beside it. Returns what it did; `trimmed` is False, with the reason,
    when the data was not trimmed."""
    library = find_library(target)
    if library is None:
        return {"trimmed": False, "reason": f"no libicudata in {target}"}
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return {
            "trimmed": False,
            "library": str(library),
            "reason": f"{', '.join(missing)} not found: apt-get install icu-devtools binutils "
            "to trim Qt's ICU data (the bundle keeps all locales, ~18 MB more)",
        }
    report = trim_data(library, keep)
    report["stripped"] = strip_code_libraries(library)
    return report


def trim_data(library: Path, keep: tuple[str, ...]) -> dict[str, object]:
    before = library.stat().st_size
    entry, data = embedded_data(library)
    with tempfile.TemporaryDirectory(prefix="desktop-registry-icu-") as tmp:
        work = Path(tmp)
        original = work / f"{entry}l.dat"
        original.write_bytes(data)
        items = list_items(original)
        drop = removable(items, keep)
        if not drop:
            return {"trimmed": False, "library": str(library), "reason": "already trimmed"}
        (work / "remove.txt").write_text("\n".join(drop) + "\n")
        trimmed = work / "out" / original.name
        trimmed.parent.mkdir()
        _run("icupkg", "-r", str(work / "remove.txt"), str(original), str(trimmed))
        kept = list_items(trimmed)
        if "root.res" not in kept or len(kept) != len(items) - len(drop):
            raise TrimError(f"icupkg wrote {len(kept)} items, expected {len(items) - len(drop)}")
        # -m: take the CPU, class and byte order of the object from the library it replaces.
        _run("genccode", "-q", "-o", "-m", str(library), "-e", entry, "-d", str(work), str(trimmed))
        objects = sorted(work.glob("*.o"))
        if len(objects) != 1:
            raise TrimError(f"genccode wrote {len(objects)} object files")
        rebuilt = work / library.name
        _run("ld", "-shared", "-s", "-z", "noexecstack", "-soname", library.name,
             "-o", str(rebuilt), str(objects[0]))  # fmt: skip
        if embedded_data(rebuilt) != (entry, trimmed.read_bytes()):
            raise TrimError("the rebuilt library does not hold the trimmed data")
        mode = library.stat().st_mode
        staged = library.with_name(library.name + ".trimmed")
        shutil.copyfile(rebuilt, staged)
        os.chmod(staged, mode)
        os.replace(staged, library)
    return {
        "trimmed": True,
        "library": str(library),
        "kept_languages": ["root", *keep],
        "items_removed": len(drop),
        "items_kept": len(kept),
        "mb_before": round(before / 1e6, 1),
        "mb_after": round(library.stat().st_size / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="the bundle folder, or a libicudata.so file")
    parser.add_argument("--keep", default=",".join(KEEP), help="languages kept beside root")
    args = parser.parse_args(argv)
    keep = tuple(lang.strip() for lang in args.keep.split(",") if lang.strip())
    try:
        report = trim(args.target, keep)
    except TrimError as exc:
        print(f"trim_icu: left unchanged: {exc}", file=sys.stderr)
        return 1
    if not report["trimmed"]:
        print(f"trim_icu: ICU data not trimmed: {report['reason']}", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
