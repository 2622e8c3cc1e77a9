"""The fair-use limits (:mod:`ldn_graph.serving.fair_use`) a server's settings ask for, and their wording.

:mod:`ldn_graph.web.accounting` applies them to every request but health, metrics and static files: a
refused request gets 429 with ``Retry-After`` and a message naming the limit; it never reaches a view,
so it costs the server almost nothing.
"""

from __future__ import annotations

from flask import Flask

from ldn_graph.serving.fair_use import FairUse, FairUsePolicy
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.state import state_of


def policy_of(config: ServeConfig) -> FairUsePolicy:
    return FairUsePolicy(
        concurrency=config.client_concurrency,
        query_time=config.client_query_time,
        window=config.client_window,
        client_header=config.client_header,
        exempt=config.fair_use_exempt,
    )


def install_fair_use(app: Flask, config: ServeConfig) -> FairUse | None:
    """Limit each client of ``app`` as ``config`` says (applied by :mod:`ldn_graph.web.accounting`);
    None when it sets no limit."""
    policy = policy_of(config)
    if not policy.active:
        return None
    fair_use = state_of(app).fair_use = FairUse(policy)
    return fair_use


def limits_text(config: ServeConfig) -> str:
    """Every limit a client meets, in English: published in the service description."""
    return (
        f"Queries are stopped after {config.timeout:g} s (503); answers are cut at {config.max_rows:,} rows "
        f"(X-SPARQL-MaxRows). {policy_of(config).describe()}"
    )
