"""Applies the fair-use limits (:mod:`ldn_graph.serving.fair_use`) to every request but health and metrics.

A refused request gets 429 with ``Retry-After`` and a message naming the limit; it never reaches a
view, so it costs the server almost nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, g, request

from ldn_graph.serving.fair_use import Admission, FairUse, FairUsePolicy, Refusal
from ldn_graph.web.config import ServeConfig
from ldn_graph.web.state import WebState, state, state_of

_UNLIMITED = ("/health", "/metrics", "/static/")  # monitoring must see a busy server too


def policy_of(config: ServeConfig) -> FairUsePolicy:
    return FairUsePolicy(
        concurrency=config.client_concurrency,
        query_time=config.client_query_time,
        window=config.client_window,
        client_header=config.client_header,
        exempt=config.fair_use_exempt,
    )


def install_fair_use(app: Flask, config: ServeConfig) -> FairUse | None:
    """Limit each client of ``app`` as ``config`` says; None when it sets no limit."""
    policy = policy_of(config)
    if not policy.active:
        return None
    fair_use = state_of(app).fair_use = FairUse(policy)
    app.before_request(_admit)
    app.teardown_request(_release)
    return fair_use


def admit(held: WebState, peer: str | None, header: Callable[[str], str | None]):
    """Admit one request (an Admission), refuse it (a Refusal, counted in the metrics), or None when no
    limit applies to it. ``header`` looks up a request header by name."""
    fair_use = held.fair_use
    if fair_use is None:
        return None
    name = fair_use.policy.client_header
    client = fair_use.client(peer, header(name) if name else None)
    if client is None:
        return None
    outcome = fair_use.admit(client)
    if isinstance(outcome, Refusal):
        metrics = held.metrics
        if metrics is not None:
            metrics.refused(outcome.reason)
    return outcome


def _admit() -> Response | None:
    if request.path.startswith(_UNLIMITED):
        return None
    outcome = admit(state(), request.remote_addr, request.headers.get)
    if isinstance(outcome, Refusal):
        response = Response(f"{outcome.message}\n", status=429, mimetype="text/plain")
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome is not None:
        g.ldngraph_admission = (outcome, time.perf_counter())
    return None


def _release(error: BaseException | None) -> None:
    admitted: tuple[Admission, float] | None = g.pop("ldngraph_admission", None)
    if admitted is not None:
        admission, started = admitted
        state().fair_use.release(admission, time.perf_counter() - started)


def limits_text(config: ServeConfig) -> str:
    """Every limit a client meets, in English: published in the service description."""
    return (
        f"Queries are stopped after {config.timeout:g} s (503); answers are cut at {config.max_rows:,} rows "
        f"(X-SPARQL-MaxRows). {policy_of(config).describe()}"
    )
