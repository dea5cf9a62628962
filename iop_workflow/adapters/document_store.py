"""Where uploaded documents are kept: the one interface, and a folder that implements it.

A document is addressed by the SHA-256 of its bytes. The key says what the content is,
so the same upload is stored once, a record that names a key can be checked against the
file, and no name the sender chose ever becomes a path on our disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredFile:
    key: str  # the SHA-256 hex digest, lower case
    sha256: str
    size: int


class DocumentStore(Protocol):
    def put(self, data: bytes) -> StoredFile: ...

    def read(self, key: str) -> bytes:
        """The bytes stored under `key`; KeyError if there are none."""
        ...

    def exists(self, key: str) -> bool: ...


class FolderStore:
    """Files under `root/ab/cd/<hex>`: two levels keep any one folder small."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        stored = StoredFile(key=digest, sha256=digest, size=len(data))
        path = self._path(digest)
        if path.exists():
            return stored
        # Level by level: mkdir(parents=True) would give the levels it adds the default mode.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (path.parent.parent, path.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
        # A temp file in the same folder, so os.replace is a rename on one file system:
        # a reader sees no file or the whole file under the final name, never a part.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(path.parent)  # the rename itself survives a crash
        return stored

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except KeyError:
            return False

    def _path(self, key: str) -> Path:
        # Only a well-formed digest becomes a path: nothing else can point outside root.
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise KeyError(key)
        return self.root / key[:2] / key[2:4] / key


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def folder_store(location: str | Path) -> FolderStore:
    return FolderStore(Path(location))
