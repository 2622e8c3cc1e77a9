"""The server's path loads none of the pipeline's libraries: rdflib and pySHACL are for building."""

from __future__ import annotations

import json
import subprocess
import sys

from ldn_graph.graph.cached_release import built_release

# Made in a fresh interpreter: the test process itself has long imported rdflib.
_SERVE_AND_COUNT = """
import json, sys
from pathlib import Path
import ldn_graph.web.server
imported_by_server = sorted(m for m in sys.modules if m.split(".")[0] in ("rdflib", "pyshacl", "pyshacl_turbo"))
from ldn_graph.web.app import create_app
from ldn_graph.web.config import ServeConfig
app = create_app(ServeConfig(release_file=Path(sys.argv[1])), isolate_queries=False)
client = app.test_client()
statuses = [
    client.get(path, headers={"Accept": accept}).status_code
    for path, accept in [
        ("/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", "application/sparql-results+json"),
        ("/id/naltrexone", "text/html"),
        ("/id/naltrexone", "application/ld+json"),
        ("/id/fibromyalgia", "text/html"),
        ("/.well-known/void", "application/ld+json"),
        ("/", "text/html"),
    ]
]
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("rdflib", "pyshacl", "pyshacl_turbo"))
print(json.dumps({"imported": imported_by_server, "serving": loaded, "statuses": statuses}))
"""


def test_the_server_neither_imports_nor_serves_with_rdflib_or_pyshacl():
    run = subprocess.run(
        [sys.executable, "-c", _SERVE_AND_COUNT, str(built_release())],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["statuses"] == [200] * 6
    assert found["imported"] == []
    assert found["serving"] == []
