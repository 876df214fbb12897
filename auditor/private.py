"""Files and folders only the auditor's user can read (they hold student data): files
0600 and folders 0700, whatever the umask. Shared by the database and the reports."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_folder(path: Path) -> Path:
    """``path`` as a folder, each missing folder on the way created 0700 (an existing one
    keeps its mode: it is not the auditor's)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is cut by the umask
    return path
