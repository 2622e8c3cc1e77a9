"""Fixtures for tests that ask the application made in-process through Flask's test client: the client
of the folder's own ``app`` fixture, and the URL its links start with. A conftest imports those it uses
beside the ``app`` it defines."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ldn_graph.web.config import ServeConfig


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def site() -> str:
    """The URL the application's links start with (its settings' public URL)."""
    return ServeConfig().public_url
