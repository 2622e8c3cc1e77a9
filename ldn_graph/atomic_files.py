"""Writing a file so that readers see its old content or its new, never a part: a temporary file in
the same folder, synced, then renamed over the target."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _new_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0666 less the umask (read once; setting it is the only
    way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_NEW_FILE_MODE = _new_file_mode()


def write_atomic(path: Path, payload: bytes | Iterable[bytes]) -> None:
    """Write a file so that readers see the old content or the new, never a part: temp file + rename.
    The file gets the mode any new file gets (0644 under the usual umask), not the temp file's 0600.
    ``payload`` is the content, or its pieces in order (a dump of 10^7 triples is never held whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(handle, _NEW_FILE_MODE)
        with os.fdopen(handle, "wb") as stream:
            stream.writelines([payload] if isinstance(payload, bytes) else payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
