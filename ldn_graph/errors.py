"""Typed errors of the library; the CLI and the web layer map them to exit codes and HTTP statuses."""

from __future__ import annotations

from pathlib import Path


class LdnGraphError(Exception):
    """Bad input or a broken environment: reported as one clear message, never a traceback."""


class SourceError(LdnGraphError):
    """A curated source file that cannot be read or parsed; names the file and, where known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {message}")
