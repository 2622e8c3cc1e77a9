"""docs/endpoint.md keeps up with the code: every serve option, its variable and every format."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldn_graph.cli import serve
from ldn_graph.serving.protocol import RDF_FORMATS, RESULT_FORMATS

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "endpoint.md").read_text()


@pytest.mark.parametrize("option", [p for p in serve.params if p.name != "help"], ids=lambda p: p.name)
def test_every_serve_option_is_documented(option):
    assert f"`{option.opts[0]}" in DOCS
    assert f"`{option.envvar}`" in DOCS


@pytest.mark.parametrize("media_format", (*RESULT_FORMATS, *RDF_FORMATS), ids=lambda f: f.key)
def test_every_format_is_documented(media_format):
    assert f"`{media_format.media_type}`" in DOCS
