"""adapters/document_store.py: content-addressed files in a folder."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from iop_workflow.adapters.document_store import (
    DocumentStore,
    FolderStore,
    StoredFile,
    folder_store,
)

CONTENT = "%PDF-1.4\nÅrsredovisning för föreningen\n%%EOF\n".encode()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_then_read_gives_the_bytes_back(tmp_path: Path) -> None:
    store: DocumentStore = folder_store(tmp_path / "docs")
    stored = store.put(CONTENT)
    assert store.read(stored.key) == CONTENT
    assert store.exists(stored.key)


def test_the_key_is_the_sha256_and_the_size_is_the_length(tmp_path: Path) -> None:
    stored = folder_store(tmp_path / "docs").put(CONTENT)
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert stored == StoredFile(key=digest, sha256=digest, size=len(CONTENT))


def test_the_file_lies_under_two_levels_of_the_digest(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    key = folder_store(root).put(CONTENT).key
    assert files_under(root) == [root / key[:2] / key[2:4] / key]
    assert (root / key[:2] / key[2:4] / key).read_bytes() == CONTENT


def test_the_same_bytes_are_stored_once(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    store = folder_store(str(root))
    first, second = store.put(CONTENT), store.put(bytes(CONTENT))
    assert first == second
    assert len(files_under(root)) == 1


def test_different_bytes_get_different_keys(tmp_path: Path) -> None:
    store = folder_store(tmp_path / "docs")
    a, b = store.put(b"a"), store.put(b"b")
    assert a.key != b.key
    assert (store.read(a.key), store.read(b.key)) == (b"a", b"b")


def test_empty_bytes_can_be_stored(tmp_path: Path) -> None:
    store = folder_store(tmp_path / "docs")
    stored = store.put(b"")
    assert stored.size == 0
    assert store.read(stored.key) == b""


def test_the_folder_is_made_on_first_put_and_private(tmp_path: Path) -> None:
    root = tmp_path / "a" / "docs"
    store = folder_store(root)
    assert not root.exists()
    key = store.put(CONTENT).key
    for folder in (root, root / key[:2], root / key[:2] / key[2:4]):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_no_temp_file_is_left_after_put(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    store = folder_store(root)
    keys = {store.put(bytes([i]) * 100).key for i in range(20)}
    store.put(bytes([3]) * 100)
    assert {p.name for p in files_under(root)} == keys
    assert not [p for p in root.rglob("*") if p.name.startswith(".")]


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "docs"
    store = folder_store(root)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("iop_workflow.adapters.document_store.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(CONTENT)
    assert files_under(root) == []
    assert not store.exists(hashlib.sha256(CONTENT).hexdigest())


def test_an_unknown_key_raises_key_error(tmp_path: Path) -> None:
    store = folder_store(tmp_path / "docs")
    store.put(CONTENT)
    unknown = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(KeyError):
        store.read(unknown)
    assert not store.exists(unknown)


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "",
        "ab/cd/" + "0" * 64,
        hashlib.sha256(CONTENT).hexdigest().upper(),
        hashlib.sha256(CONTENT).hexdigest()[:63],
        hashlib.sha256(CONTENT).hexdigest() + "0",
        hashlib.sha256(CONTENT).hexdigest() + "\n",
        "../" + hashlib.sha256(CONTENT).hexdigest()[3:],
        "g" * 64,
    ],
)
def test_a_malformed_key_raises_key_error(tmp_path: Path, key: str) -> None:
    store = folder_store(tmp_path / "docs")
    store.put(CONTENT)
    with pytest.raises(KeyError):
        store.read(key)
    assert not store.exists(key)


def test_a_key_cannot_reach_a_file_outside_the_root(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"top secret")
    store = FolderStore(tmp_path / "docs")
    for key in ("../secret", "../../secret", str(secret)):
        with pytest.raises(KeyError):
            store.read(key)
