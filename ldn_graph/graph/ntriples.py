"""A store's N-Triples as the release writes them (rdflib's bytes, lines sorted), in bounded memory.

The release's N-Triples have always been rdflib's, sorted line by line. Oxigraph writes the same
triples faster, escaping control characters rdflib writes as they are; they are put back, and the
lines sorted as bytes (UTF-8 bytes sort as their code points do). Sorting 10^7 lines in memory held
the dump twice over and the lines as 10^7 objects (13 GB at 10^7 triples), so the dump goes to a
file, is sorted a run of ``RUN_BYTES`` at a time, and longer dumps are merged from sorted runs on disk.
"""

from __future__ import annotations

import heapq
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

RUN_BYTES = 256 << 20  # lines sorted in memory at once: a dump of 10^6 triples in one run
_PIECE_LINES = 8192  # lines written out at once

# Control characters Oxigraph's N-Triples writer escapes and rdflib's writes as they are: \t, \b, \f and
# \uXXXX for the rest. Matched escape by escape from the left, an escaped backslash first, so that the
# text \\t (a backslash, then t) is never taken for a tab.
_OXIGRAPH_ESCAPES = re.compile(rb"\\(\\|t|b|f|u00[01][0-9A-F]|u007F)")
_RAW = {b"\\": b"\\\\", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
# Line ends str.splitlines() knows besides \n: the rdflib path splits on them too (\r is escaped). Each
# is looked for on its own: one regular expression of them all took 2 s over a dump of 10^6 triples.
_OTHER_LINE_ENDS = (
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x1d",
    b"\x1e",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
    b"\xe2\x80\xa9",
)


def _unescape(match: re.Match) -> bytes:
    escape = match.group(1)
    return _RAW.get(escape) or bytes([int(escape[1:], 16)])


def _lines(block: bytes) -> list[bytes]:
    """The lines of whole lines of Oxigraph's dump, as the rdflib path has them: control characters as
    they are, and split where ``str.splitlines()`` splits (a graph holding one of the rarer line ends)."""
    if b"\\" in block:
        block = _OXIGRAPH_ESCAPES.sub(_unescape, block)
    if not any(end in block for end in _OTHER_LINE_ENDS):
        return [line for line in block.split(b"\n") if line.strip()]
    return [line.encode("utf-8") for line in block.decode("utf-8").splitlines() if line.strip()]


def sorted_ntriples(dump: bytes) -> bytes:
    """Oxigraph's N-Triples of a whole graph as the rdflib path writes them, in memory."""
    lines = _lines(dump)
    lines.sort()
    return b"\n".join(lines) + b"\n"


def sorted_ntriples_of(store: ox.Store, work: Path | None = None) -> Iterator[bytes]:
    """The default graph of ``store`` as sorted N-Triples, in pieces; the dump and any sorted runs are
    kept in a temporary directory in ``work`` (default: the system's), removed at the end."""
    with tempfile.TemporaryDirectory(prefix=".ntriples-", dir=work) as directory:
        dump = Path(directory) / "dump.nt"
        store.dump(str(dump), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        runs: list[list[bytes] | Path] = []
        with dump.open("rb") as stream:
            while block := stream.read(RUN_BYTES) + stream.readline():  # whole lines only
                lines = _lines(block)
                lines.sort()
                if runs or len(block) >= RUN_BYTES:
                    runs.append(_spill(lines, Path(directory) / f"run-{len(runs)}.nt"))
                else:
                    runs.append(lines)
        dump.unlink()
        if not runs:
            yield b"\n"  # as rdflib's path writes an empty graph
            return
        merged = runs[0] if len(runs) == 1 else heapq.merge(*(_read(run) for run in runs))
        yield from _pieces(merged)


def _spill(lines: list[bytes], path: Path) -> Path:
    with path.open("wb") as stream:
        stream.writelines(_pieces(lines))
    return path


def _read(run: list[bytes] | Path) -> Iterator[bytes]:
    if isinstance(run, list):
        yield from run
        return
    with run.open("rb") as stream:
        for line in stream:
            yield line[:-1]  # compared without its end, as in memory: a line end sorts before a tab


def _pieces(lines: Iterable[bytes]) -> Iterator[bytes]:
    batch: list[bytes] = []
    for line in lines:
        batch.append(line)
        if len(batch) == _PIECE_LINES:
            yield b"\n".join(batch) + b"\n"
            batch = []
    if batch:
        yield b"\n".join(batch) + b"\n"
