"""The curated identifier table (``graph_data/reference/identifiers.tsv``) as data.

The table says, for every external identifier of every entity of the article, which SKOS relation it
has to our entity (``mapping``), whether it may go into the graph (``emit``), where it was seen
(``evidence``) and how sure that sighting is (``confidence``). The mapping set, the link-health check
and the tests all read it through this module.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ldn_graph.errors import SourceError
from ldn_graph.resources import data_dir

COLUMNS = ("entity_label", "entity_kind", "scheme", "identifier", "mapping", "emit", "evidence", "confidence")
MAPPINGS = ("exact", "close", "broad", "none")
CONFIDENCES = ("verified", "likely", "unverified", "not_found")


@dataclass(frozen=True)
class ReferenceRow:
    entity_label: str
    entity_kind: str
    scheme: str
    identifier: str
    mapping: str
    emit: bool
    evidence: str
    confidence: str
    line: int  # line of the file, for messages

    @property
    def key(self) -> tuple[str, str]:
        return table_key(self.scheme, self.identifier)


def table_key(scheme: str, identifier: str) -> tuple[str, str]:
    """The lookup key of an identifier: the graph writes DOIs in lower case, the table as registered."""
    return scheme, identifier.lower() if scheme == "doi" else identifier


def reference_table_path(root: Path | None = None) -> Path:
    return data_dir(root) / "reference" / "identifiers.tsv"


@dataclass(frozen=True)
class ReferenceTable:
    path: Path
    rows: tuple[ReferenceRow, ...]

    def by_key(self) -> dict[tuple[str, str], ReferenceRow]:
        """Rows that name an identifier, by (scheme, identifier); a later row wins a duplicate key."""
        return {row.key: row for row in self.rows if row.identifier}

    def lookup(self, scheme: str, identifier: str) -> ReferenceRow | None:
        return self.by_key().get(table_key(scheme, identifier))


def load_reference_table(root: Path | None = None, path: Path | None = None) -> ReferenceTable:
    """Read and check the table; a malformed row is a ``SourceError`` naming its line."""
    path = Path(path) if path is not None else reference_table_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourceError(path, f"cannot read the identifier table ({error.strerror})") from None
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise SourceError(path, f"the header must be {' '.join(COLUMNS)}", line=1)
    rows = []
    for line, raw in enumerate(reader, start=2):
        if None in raw or any(raw[c] is None for c in COLUMNS):
            raise SourceError(path, f"expected {len(COLUMNS)} tab-separated columns", line=line)
        if raw["mapping"] not in MAPPINGS:
            raise SourceError(path, f"mapping must be one of {', '.join(MAPPINGS)}", line=line)
        if raw["emit"] not in ("yes", "no"):
            raise SourceError(path, "emit must be yes or no", line=line)
        if raw["confidence"] not in CONFIDENCES:
            raise SourceError(path, f"confidence must be one of {', '.join(CONFIDENCES)}", line=line)
        rows.append(
            ReferenceRow(
                entity_label=raw["entity_label"],
                entity_kind=raw["entity_kind"],
                scheme=raw["scheme"],
                identifier=raw["identifier"],
                mapping=raw["mapping"],
                emit=raw["emit"] == "yes",
                evidence=raw["evidence"],
                confidence=raw["confidence"],
                line=line,
            )
        )
    return ReferenceTable(path, tuple(rows))
