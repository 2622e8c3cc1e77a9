"""Run KGX (PyPI ``kgx``) on our export with no network: ``validate``, or ``transform`` to N-Triples.

KGX fetches the Biolink model, its predicate map and its JSON-LD context from GitHub when it is imported.
Here they come from the Biolink model's own releases on PyPI, which ``scripts/test`` downloads into
BIOLINK_DIR beside KGX's virtual environment: the 4.4.6 source release (the model's YAML is in the
``biolink-model`` package; its predicate map and JSON-LD context are in the source release) and the 2.2.6
wheel, whose CURIE namespaces are the prefixes of the 2.2 context that KGX 2.6 validates ids against by
default (its config names 2.2.5, which is not on PyPI). The Monarch and OBO contexts KGX falls back on
when it expands CURIEs are the copies in ``prefixcommons`` (a KGX dependency). Everything else is KGX's
own code.

    python run_kgx.py BIOLINK_DIR validate NODES EDGES        # prints {context: errors} as JSON
    python run_kgx.py BIOLINK_DIR transform NODES EDGES OUT   # writes OUT as N-Triples

Several commands, separated by ``--``, run in one process (KGX takes seconds to import): each prints
its line, in order.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

SOURCE_RELEASE = "biolink_model-4.4.6.tar.gz"
OLD_WHEEL = "biolink_model-2.2.6-py3-none-any.whl"


def contexts(biolink: Path, scratch: Path) -> dict[str, dict]:
    with tarfile.open(biolink / SOURCE_RELEASE) as release:
        member = release.getmember("biolink_model-4.4.6/project/jsonld/biolink_model.context.jsonld")
        current = json.load(release.extractfile(member))["@context"]
        mapping = release.extractfile(release.getmember("biolink_model-4.4.6/predicate_mapping.yaml"))
        (scratch / "predicate_mapping.yaml").write_bytes(mapping.read())
    with zipfile.ZipFile(biolink / OLD_WHEEL) as wheel:
        model = wheel.read("biolink/model.py").decode("utf-8")
    old = dict(re.findall(r"CurieNamespace\('([^']*)', '([^']*)'\)", model))
    return {"Biolink 4.4.6 context": current, "Biolink 2.2.6 prefixes": old}


def main() -> None:
    biolink, *arguments = sys.argv[1:]
    commands, command = [], []
    for argument in [*arguments, "--"]:
        if argument == "--":
            commands.append(command)
            command = []
        else:
            command.append(argument)
    scratch = Path(tempfile.mkdtemp())
    by_name = contexts(Path(biolink), scratch)
    import bmt.toolkit

    schema = str(importlib.resources.files("biolink_model") / "schema" / "biolink_model.yaml")
    bmt.toolkit.Toolkit.__init__.__defaults__ = (schema, str(scratch / "predicate_mapping.yaml"))
    import kgx.config
    import prefixcommons

    for name in ("monarch_context", "obo_context"):
        registry = Path(prefixcommons.__file__).parent / "registry" / f"{name}.jsonld"
        kgx.config.jsonld_context_map[name] = json.loads(registry.read_text(encoding="utf-8"))["@context"]
    for command in commands:
        run(command, by_name, scratch)


def run(command: list[str], by_name: dict[str, dict], scratch: Path) -> None:
    import kgx.config

    name, nodes, edges, *rest = command
    if name == "validate":
        from kgx.cli.cli_utils import validate

        found = {}
        for context_name, context in by_name.items():
            kgx.config.jsonld_context_map["biolink"] = context
            found[context_name] = validate([nodes, edges], "tsv", None, str(scratch / "report.json"), None)
        print(json.dumps(found, default=sorted), flush=True)
    elif name == "transform":
        from kgx.cli.cli_utils import transform

        kgx.config.jsonld_context_map["biolink"] = by_name["Biolink 4.4.6 context"]
        transform([nodes, edges], input_format="tsv", output=rest[0], output_format="nt")
        print(json.dumps({"written": rest[0]}), flush=True)
    else:
        raise SystemExit(f"unknown command {name!r}: validate or transform")


if __name__ == "__main__":
    main()
