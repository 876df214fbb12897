"""Writing outputs that hold student data: files 0600 and folders 0700 whatever the umask,
never through a symlink, and a report folder switched in whole with a rename, so that a
crash or SIGKILL mid-render leaves the previous report or the new one, never a mix."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from auditor.errors import AuditorError
from auditor.private import FILE_MODE, FOLDER_MODE, make_folder

PARTIAL = ".partial"  # suffix of staging folders and files beside their target
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # renameat2(2): swap two existing paths atomically (Linux 3.15+)


class ReportFolderError(AuditorError):
    """The report folder cannot be replaced (it holds other files, or cannot be written)."""


def _private_opener(path: str, flags: int) -> int:
    """``open()``'s opener: a new file is 0600, and a symlink is never followed."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def create_text(path: Path) -> IO[str]:
    """A new text file (UTF-8, newlines as written) that no other account can read; an
    existing file or symlink at ``path`` is an error, never overwritten."""
    return open(path, "x", encoding="utf-8", newline="", opener=_private_opener)


def append_text(path: Path) -> IO[str]:
    """A private file this report made, opened to add to its end (never through a
    symlink)."""
    return open(path, "a", encoding="utf-8", newline="", opener=_private_opener)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to a new private file at ``path``."""
    with create_text(path) as handle:
        handle.write(text)


def write_pieces(path: Path, pieces: Iterable[str], chunk: int = 1 << 16) -> None:
    """Write the text ``pieces`` (a template's ``generate()``) to a new private file as they
    come, a chunk at a time: a large document is never held whole."""
    with create_text(path) as handle:
        held: list[str] = []
        size = 0
        for piece in pieces:
            held.append(piece)
            size += len(piece)
            if size >= chunk:
                handle.write("".join(held))
                held, size = [], 0
        handle.write("".join(held))


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a private file beside ``path``, then rename it over ``path``: a
    reader sees the old file or the new one, and a symlink at ``path`` is replaced, never
    written through."""
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


@contextmanager
def replaced_folder(target: Path, owned: Collection[str]) -> Iterator[Path]:
    """Yield an empty private folder beside ``target`` to write a report into; when the
    block ends normally, switch it in place of ``target`` with one rename and delete what it
    replaced. If the block raises (or the process dies), ``target`` is untouched.

    ``target`` may itself be a symlink (the folder is replaced where it points), but a
    ``target`` holding entries not in ``owned`` is refused: replacing the folder would
    delete them. Writers of one folder take turns (a lock file beside it), and each removes
    the staging folders that killed writers left."""
    real = target.resolve()
    parent = make_folder(real.parent)
    with _turn(parent / f".{real.name}.lock"):
        _remove_leftovers(parent, real.name)
        _check_owned(target, real, owned)
        staging = Path(tempfile.mkdtemp(prefix=f".{real.name}.", suffix=PARTIAL, dir=parent))
        os.chmod(staging, FOLDER_MODE)
        aside = staging.with_name(staging.name.removesuffix(PARTIAL) + "-old" + PARTIAL)
        try:
            yield staging
            _switch(staging, real, aside)
        finally:
            # What is left here is the replaced report or a failed render; if removing it
            # fails, the next writer of this folder removes it (see _remove_leftovers).
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def _turn(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock`` (created 0600 if missing) for the block."""
    fd = _private_opener(str(lock), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _remove_leftovers(parent: Path, name: str) -> None:
    """Delete staging folders of ``name`` that a killed writer left (we hold the lock, so
    no live writer owns one). Their names are exactly those ``replaced_folder`` makes, so
    the staging folders of another report folder (``name.x``) are never touched."""
    pattern = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}(-old)?{re.escape(PARTIAL)}")
    for stale in parent.iterdir():
        if pattern.fullmatch(stale.name) and stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)


def _check_owned(target: Path, real: Path, owned: Collection[str]) -> None:
    """Refuse to replace a folder that is not ours to replace: one holding anything the
    auditor does not write there, or a mount point (a volume given to a container)."""
    if not real.exists():
        return
    if not real.is_dir():
        raise ReportFolderError(f"{target}: not a folder, so no report can be written there")
    if os.path.ismount(real):
        raise ReportFolderError(
            f"{target}: a mount point cannot be replaced by a rename; "
            "write the report to a folder inside it"
        )
    foreign = sorted(p.name for p in real.iterdir() if p.name not in owned)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if foreign[3:] else "")
        raise ReportFolderError(
            f"{target}: holds {shown}, which the auditor did not write; a report replaces "
            "the whole folder, so choose a new or empty folder, or move those files"
        )


def _switch(staging: Path, target: Path, aside: Path) -> None:
    """Put ``staging`` at ``target``; afterwards ``staging`` (or ``aside``) holds what was
    there. Where the kernel cannot exchange two folders in one step, the old folder is
    moved aside first, which leaves an instant with no folder at ``target``."""
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif not _exchange(staging, target):
        os.rename(target, aside)
        os.rename(staging, target)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False where the C library,
    kernel or file system does not offer it."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))
