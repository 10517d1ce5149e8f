"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl in a temp dir, torn down after.

Uses DESKTOP_REGISTRY_TEST_POSTGRES_URL when set (CI starts one); skips only when no postgres
binaries exist, and fails instead when CI=true.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "DESKTOP_REGISTRY_TEST_POSTGRES_URL"


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """postgresql://… of a database nobody else uses."""
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return
    bins = _bin_dir()
    if bins is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries are missing; .ci/run installs Debian's postgresql.")
        pytest.skip("no PostgreSQL binaries (initdb) on this machine")
    root = Path(tempfile.mkdtemp(prefix="dr-pg-", dir="/tmp"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the postgres user
        shutil.chown(root, user="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    subprocess.run([*prefix, str(bins / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8"], **run)  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*prefix, str(bins / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                    "-l", str(root / "log"), "start"], **run)  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
