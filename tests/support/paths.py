"""Where the tests' fixtures and the project's sources are."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
#: The small release the endpoint, safety and reliability servers serve, and the W3C protocol graphs.
ENDPOINT_RELEASE = TESTS / "endpoint" / "fixtures" / "release.nt"
W3C = TESTS / "w3c"
PROTOCOL_GRAPHS = W3C / "protocol-graphs.nq"
