"""docs/endpoint.md keeps up with the code: every serve option, its variable and every format."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from ldn_graph.cli import serve
from ldn_graph.serving.protocol import RDF_FORMATS, RESULT_FORMATS
from ldn_graph.web.config import ServeConfig

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "endpoint.md").read_text()


@pytest.mark.parametrize("option", [p for p in serve.params if p.name != "help"], ids=lambda p: p.name)
def test_every_serve_option_is_documented(option):
    assert f"`{option.opts[0]}" in DOCS
    assert f"`{option.envvar}`" in DOCS


@pytest.mark.parametrize("media_format", (*RESULT_FORMATS, *RDF_FORMATS), ids=lambda f: f.key)
def test_every_format_is_documented(media_format):
    assert f"`{media_format.media_type}`" in DOCS


# A setting whose option has another name: the option gives it in other units or another form.
_OPTION_OF = {"cache_bytes": "cache_mb", "releases": "releases_dir"}
# Left out, the store's named graphs are asked of the store: the command, not a default, decides that.
_DECIDED_BY_THE_COMMAND = {"store_named_graphs"}


@pytest.mark.parametrize(
    "setting", [f for f in fields(ServeConfig) if f.name not in _DECIDED_BY_THE_COMMAND], ids=lambda f: f.name
)
def test_every_server_setting_is_a_serve_option_with_the_same_default(setting):
    """ServeConfig is the one source of the server's defaults: the command takes each from it."""
    given = serve.make_context("serve", []).params[_OPTION_OF.get(setting.name, setting.name)]
    default = getattr(ServeConfig(), setting.name)
    if setting.name == "cache_bytes":
        given = int(given * (1 << 20))
    assert (tuple(given) if isinstance(given, list) else given) == default
