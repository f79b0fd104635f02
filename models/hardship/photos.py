"""Document photos of a case, sealed on disk.

A channel keeps what a member sends in its media folder, in clear. A hardship
photo (a diagnosis, a payslip) is read once when the case is written, sealed
whole (:func:`models.sealed.seal_bytes`) into the folder's ``hardship`` part
under a random name, and the channel's clear copy is removed. Reading one back
for a cadre writes a short-lived clear copy outside the media folder, which is
swept away the next time copies are made.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
from pathlib import Path

from models.sealed import seal_bytes, unseal_bytes

log = logging.getLogger(__name__)

PURPOSE = "hardship.document"
FOLDER = "hardship"
# Clear copies made for a cadre to look at live this long, then go with the next copies made.
VIEW_COPY_SECONDS = 15 * 60


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def seal_photo(source: str, media_dir: Path) -> str | None:
    """Seal the file at ``source`` into the media folder; return where, or None when there is no such file.

    A file a channel downloaded into ``media_dir`` is removed once sealed; one elsewhere (the
    console hands over a file of the operator's own) is left where it is.
    """
    path = Path(source)
    if not path.is_file():
        return None
    folder = media_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{secrets.token_hex(16)}.sealed"
    partial = target.with_suffix(".part")
    partial.write_bytes(seal_bytes(path.read_bytes(), PURPOSE))
    partial.replace(target)
    if _inside(path, media_dir):
        path.unlink(missing_ok=True)
    return str(target)


def _view_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "unionbot-hardship-views"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def sweep_view_copies(now: float | None = None) -> int:
    """Remove clear copies older than :data:`VIEW_COPY_SECONDS`; how many went."""
    moment = time.time() if now is None else now
    removed = 0
    for copy in _view_folder().glob("*"):
        try:
            if moment - copy.stat().st_mtime > VIEW_COPY_SECONDS:
                copy.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def view_copy(stored: str, suffix: str = ".jpg") -> Path | None:
    """A clear copy of a sealed photo for a channel to send; None when the sealed file is gone."""
    path = Path(stored)
    if not path.is_file():
        return None
    sweep_view_copies()
    copy = _view_folder() / f"{secrets.token_hex(16)}{suffix}"
    copy.write_bytes(unseal_bytes(path.read_bytes(), PURPOSE))
    return copy


def erase_photo(stored: str) -> None:
    """Remove a sealed photo for good (retention)."""
    Path(stored).unlink(missing_ok=True)
