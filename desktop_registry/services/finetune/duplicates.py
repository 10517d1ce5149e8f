"""Finding exact duplicate rows in a training file of any size, by 64-bit content digests.

Memory stays bounded: past a few hundred thousand rows the digests spill to bucket files in a
temporary folder and each bucket is checked on its own. Never keeps a row's text.
"""

from __future__ import annotations

import heapq
import tempfile
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

_BUCKET_BITS = 6  # 64 bucket files once spilled


class DuplicateFinder:
    """add() each row's digest and line in file order, then duplicates() once."""

    def __init__(self, spill_at: int = 250_000) -> None:
        self._spill_at = spill_at
        self._digests = array("Q")
        self._lines = array("Q")
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def add(self, digest: int, line: int) -> None:
        self._digests.append(digest)
        self._lines.append(line)
        if len(self._digests) >= self._spill_at:
            self._spill()

    def _bucket(self, index: int) -> Path:
        assert self._folder is not None
        return Path(self._folder.name) / f"{index:02}.bin"

    def _spill(self) -> None:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="desktop-registry-dups-")
        count = 1 << _BUCKET_BITS
        shift = 64 - _BUCKET_BITS
        buckets = [array("Q") for _ in range(count)]
        for digest, line in zip(self._digests, self._lines, strict=True):
            bucket = buckets[digest >> shift]
            bucket.append(digest)
            bucket.append(line)
        for index, bucket in enumerate(buckets):
            if bucket:
                with self._bucket(index).open("ab") as out:
                    bucket.tofile(out)
        self._digests = array("Q")
        self._lines = array("Q")

    def _pairs(self) -> Iterator[list[tuple[int, int]]]:
        """(digest, line) groups in which every duplicate has its first occurrence."""
        if self._folder is None:
            yield list(zip(self._digests, self._lines, strict=True))
            return
        self._spill()
        for index in range(1 << _BUCKET_BITS):
            path = self._bucket(index)
            if not path.exists():
                continue
            flat = array("Q")
            flat.frombytes(path.read_bytes())
            path.unlink()
            yield list(zip(flat[0::2], flat[1::2], strict=True))

    def duplicates(
        self, listed_limit: int, each: Callable[[int], None] | None = None
    ) -> tuple[int, list[tuple[int, int]]]:
        """(how many, the first `listed_limit` by line as (line, first line)); `each` is
        called with every duplicate's digest."""
        count = 0
        kept: list[tuple[int, int]] = []  # a max-heap of lines, negated
        try:
            for group in self._pairs():
                first: dict[int, int] = {}
                for digest, line in group:
                    seen = first.setdefault(digest, line)
                    if seen == line:
                        continue
                    count += 1
                    if each is not None:
                        each(digest)
                    item = (-line, seen)
                    if len(kept) < listed_limit:
                        heapq.heappush(kept, item)
                    elif listed_limit and -line > kept[0][0]:
                        heapq.heapreplace(kept, item)
        finally:
            self.close()
        return count, sorted((-neg, seen) for neg, seen in kept)

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self._digests = array("Q")
        self._lines = array("Q")
