"""The ``ldn-graph`` command: a thin adapter over the library modules.

Exit codes are part of the interface: 0 success (for ``validate``: the graph conforms), 1 violations,
2 an error (bad input, missing file, syntax error).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ldn_graph import __version__
from ldn_graph.errors import LdnGraphError
from ldn_graph.web.config import ServeConfig

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


class _Group(click.Group):
    """Turns our typed errors into one clear line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LdnGraphError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="ldn-graph")
def main() -> None:
    """Build, check, query, release and serve the low-dose naltrexone knowledge graph."""


def _checkout_here(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Without --data-dir, a curator working in a clone means that clone's sources."""
    if value is None and (Path.cwd() / "ontology").is_dir() and (Path.cwd() / "graph_data").is_dir():
        return Path.cwd()
    return value


def _root_option(function):
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        callback=_checkout_here,
        help="A directory holding ontology/ and graph_data/ (default: the current directory if it holds "
        "them, else the installed graph).",
    )(function)


def _cache_option(function):
    return click.option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        help="Build from the sources (and validate) even when the built graph and its report are kept "
        "from a build of the same sources, and keep nothing (see LDNGRAPH_CACHE_DIR).",
    )(function)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _cache(no_cache: bool) -> Path | None:
    """Where the built graph and its validation reports are kept between commands, unless --no-cache."""
    from ldn_graph.graph.cached_release import cache_dir

    return None if no_cache else cache_dir()


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: Turtle, or N-Triples when it ends in .nt.",
)
@_root_option
@_cache_option
def build(out: Path, data_dir: Path | None, no_cache: bool) -> None:
    """Build the merged graph (ontology + data + standard types + dataset description)."""
    from ldn_graph.atomic_files import write_atomic
    from ldn_graph.graph.build import build_graph, format_for, write_graph

    started = time.perf_counter()
    cache = _cache(no_cache)
    if cache is None:
        result = build_graph(data_dir, store=True)
        write_graph(result.graph, out)
    else:
        from ldn_graph.graph.build_cache import cached_build

        result, kept = cached_build(data_dir, cache)
        if format_for(out) == "nt":
            write_atomic(out, kept.pieces())
        else:
            write_graph(result.graph, out)
    click.echo(
        f"built {len(result.graph):,} triples from {len(result.sources.files)} files "
        f"into {out} in {time.perf_counter() - started:.2f} s",
        err=True,
    )


@main.command()
@_root_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="Report as text for people or JSON for tools.",
)
@click.option(
    "--engine",
    type=click.Choice(["turbo", "pyshacl"]),
    default="turbo",
    show_default=True,
    help="SHACL engine: pyshacl-turbo (fast; identical reports on our shapes) or the reference pySHACL.",
)
@_cache_option
def validate(data_dir: Path | None, fmt: str, engine: str, no_cache: bool) -> None:
    """Check the graph against the SHACL shapes and the data contract (exit 0 conforms, 1 violations)."""
    from ldn_graph.graph.validate import validate_project

    started = time.perf_counter()
    report = validate_project(data_dir, engine, _cache(no_cache))
    if fmt == "json":
        click.echo(report.to_json())
    else:
        for violation in report.violations:
            click.echo(violation.describe())
        verdict = "conforms" if report.conforms else f"{len(report.violations)} violation(s)"
        click.echo(f"{verdict} ({report.triples:,} triples, {time.perf_counter() - started:.2f} s)", err=True)
    sys.exit(EXIT_OK if report.conforms else EXIT_VIOLATIONS)


@main.group()
def new() -> None:
    """Start a new piece of curation as a skeleton file that validation explains until it is complete."""


@new.command("study")
@click.argument("registry_number")
@click.option(
    "--condition", required=True, help="The condition's slug, e.g. fibromyalgia (ldn:fibromyalgia)."
)
@click.option(
    "--design", required=True, help="A concept of ldngraph:StudyDesignScheme, e.g. RandomisedParallelDesign."
)
@click.option(
    "--arms", default=2, show_default=True, type=int, help="How many arms (first is the experimental)."
)
@click.option("--results", default=1, show_default=True, type=int, help="How many result nodes.")
@click.option("--slug", help="The study's IRI slug (default: from the registry number).")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: graph_data/evidence/{slug}.ttl."
)
@_root_option
def new_study(
    registry_number: str,
    condition: str,
    design: str,
    arms: int,
    results: int,
    slug: str | None,
    out: Path | None,
    data_dir: Path | None,
) -> None:
    """Write a skeleton Turtle file for the study registered as REGISTRY_NUMBER (NCT…, EudraCT, ACTRN…,
    CTRI/…): its design, arms, results and quotes to fill in."""
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.new_study import plan_study, write_skeleton

    skeleton = plan_study(
        registry_number, condition, design, arms, results, slug, build_graph(data_dir).graph
    )
    target = write_skeleton(skeleton, data_dir, out)
    click.echo(f"wrote {target}: fill it in, then run `ldn-graph validate` until it conforms", err=True)


@main.command()
@click.argument("query", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--list", "list_queries", is_flag=True, help="List the shipped competency queries and exit.")
@click.option(
    "--graph",
    "graph_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Query this built graph file instead of building the graph afresh.",
)
@_root_option
def query(
    query: str | None, fmt: str, list_queries: bool, graph_file: Path | None, data_dir: Path | None
) -> None:
    """Run a SPARQL query against the built graph: QUERY is a file, - for standard input, or the name of a
    shipped competency query (01-conditions-evidence, 01 or conditions-evidence; --list shows them)."""
    from ldn_graph.resources import queries_dir
    from ldn_graph.serving.named_queries import find_query, named_queries
    from ldn_graph.serving.query_runner import render, run_query

    if list_queries:
        for shipped in named_queries(queries_dir(data_dir)):
            click.echo(f"{shipped.name}\t{shipped.summary}")
        return
    if query is None:
        raise click.UsageError("give a query file, - for standard input, or a query name (--list shows them)")
    if query == "-":
        text = sys.stdin.read()
    elif Path(query).is_file():
        text = Path(query).read_text(encoding="utf-8")
    else:
        text = find_query(query, queries_dir(data_dir)).text
    store = _store_of(graph_file, data_dir)
    result = run_query(store, text)
    click.echo(render(result, fmt), nl=False)


def _store_of(graph_file: Path | None, root: Path | None):
    """An in-memory store holding the built graph: read from ``graph_file``, or built now."""
    if graph_file is not None:
        from ldn_graph.serving.stores import load_store

        return load_store(graph_file)
    import pyoxigraph as ox

    from ldn_graph.graph.build import build_graph, serialise

    store = ox.Store()
    data = serialise(build_graph(root).graph, "nt")
    store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    return store


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The releases directory; the release is written to OUT/<version>/.",
)
@_root_option
@_cache_option
def release(out: Path, data_dir: Path | None, no_cache: bool) -> None:
    """Write a versioned release: dumps, checksums, shapes, VoID, changelog (exit 1: graph invalid)."""
    from ldn_graph.graph.release import InvalidGraph, make_release

    started = time.perf_counter()
    try:
        target = make_release(out, data_dir, progress=_say, cache=_cache(no_cache))
    except InvalidGraph as refused:
        for violation in refused.report.violations:
            click.echo(violation.describe())
        click.echo(f"error: {refused}", err=True)
        sys.exit(EXIT_VIOLATIONS)
    click.echo(f"released {target} in {time.perf_counter() - started:.2f} s", err=True)


def _graph_iri(ctx: click.Context, param: click.Parameter, value):
    """An absolute IRI naming a graph (or, for a repeatable option, each one; 'none' for none)."""
    from pyoxigraph import NamedNode

    values = value if isinstance(value, tuple) else (value,)
    if values == ("none",) and param.multiple:
        return ()
    for iri in values:
        if iri is None:
            continue
        try:
            NamedNode(iri)
        except ValueError as error:
            raise click.BadParameter(f"{iri!r} is not an IRI: {error}") from None
        if ":" not in iri:
            raise click.BadParameter(f"{iri!r} is not an absolute IRI")
    return value


@main.command()
@click.option(
    "--store-url",
    required=True,
    # Not LDNGRAPH_STORE_URL: that is serve's query endpoint, and a store's two endpoints differ.
    envvar="LDNGRAPH_GRAPH_STORE_URL",
    show_envvar=True,
    help="The store's SPARQL 1.1 Graph Store Protocol endpoint (Oxigraph: http://HOST:7878/store; "
    "Virtuoso: http://HOST:8890/sparql-graph-crud-auth).",
)
@click.option(
    "--credentials",
    envvar="LDNGRAPH_STORE_CREDENTIALS",
    show_envvar=True,
    default=None,
    help="USER:PASSWORD for a store that asks for them (HTTP basic or digest, as the store asks); "
    "USER:PASSWORD@ in --store-url works too. Prefer the environment variable: a command line is "
    "visible to other users of the machine.",
)
@click.option(
    "--graph",
    default=None,
    callback=_graph_iri,
    help="Load the release into this named graph instead of the default graph (for a store with no "
    "default graph of its own, such as Virtuoso; serve it with serve --store-graph IRI).",
)
@click.option(
    "--release",
    "release_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The release's N-Triples (.nt or .nt.gz); default: build the graph now.",
)
@click.option(
    "--data",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Extra RDF file, as serve --data takes it (repeatable): each named graph of N-Quads or TriG "
    "replaces the store's graph of that name; other triples join the default graph (or --graph).",
)
def load(
    store_url: str,
    credentials: str | None,
    graph: str | None,
    release_file: Path | None,
    data: tuple[Path, ...],
) -> None:
    """Replace a remote store's default graph (or --graph) with the release (SPARQL 1.1 Graph Store Protocol)."""
    from ldn_graph.graph.publish import GraphStore, push_data, push_release

    store = GraphStore(store_url, credentials)
    if release_file is None:
        from ldn_graph.graph.cached_release import built_release

        release_file = built_release()
    started = time.perf_counter()
    where = f"the graph <{graph}>" if graph else "the default graph"
    click.echo(f"loading {release_file} into {where} of {store.url}", err=True)
    push_release(store, release_file, graph)
    push_data(store, data, graph, progress=lambda step: click.echo(f"loading {step}", err=True))
    click.echo(f"loaded {release_file} into {store.url} in {time.perf_counter() - started:.2f} s", err=True)


def _given(parameter: str) -> bool:
    """Whether the user gave ``parameter`` (on the command line or in the environment)."""
    source = click.get_current_context().get_parameter_source(parameter)
    return source not in (None, click.core.ParameterSource.DEFAULT)


#: Every default of ``serve`` is ServeConfig's, so the command, the library and the docs cannot disagree.
_SERVE = ServeConfig()
_MIB = 1 << 20


def _serve_option(name: str, *dest: str, **kwargs):
    """A ``serve`` option that also reads ``LDNGRAPH_<NAME>`` from the environment."""
    return click.option(
        f"--{name}", *dest, envvar=f"LDNGRAPH_{name.upper().replace('-', '_')}", show_envvar=True, **kwargs
    )


@main.command()
@_serve_option("host", default=_SERVE.host, show_default=True, help="Interface to listen on.")
@_serve_option("port", default=_SERVE.port, type=int, show_default=True, help="Port to listen on.")
@_serve_option(
    "base-url", default=None, help="Public URL of this server, used for links (default: http://HOST:PORT)."
)
@_serve_option(
    "timeout", default=_SERVE.timeout, type=float, show_default=True, help="Query time limit in seconds."
)
@_serve_option(
    "max-rows", default=_SERVE.max_rows, type=int, show_default=True, help="Most result rows returned."
)
@_serve_option("workers", default=_SERVE.workers, type=int, show_default=True, help="Web worker processes.")
@_serve_option(
    "cache-mb",
    default=_SERVE.cache_bytes / _MIB,
    type=click.FloatRange(min=0),
    show_default=True,
    help="Memory in MiB each worker gives to answers of repeated queries (0: none kept).",
)
@_serve_option(
    "threads",
    default=_SERVE.threads,
    type=int,
    show_default=True,
    help="Requests each worker answers at once, each with an engine process of its own.",
)
@_serve_option(
    "service-allow",
    "service_allow",
    multiple=True,
    help="A SERVICE endpoint (absolute IRI) queries may call (repeatable); none by default: federation off.",
)
@_serve_option(
    "data",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Extra RDF file to load (repeatable); N-Quads keep their named graphs.",
)
@_serve_option(
    "release",
    "release_file",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A built graph file to serve (default: build the graph now).",
)
@_serve_option(
    "releases",
    "releases_dir",
    default=None,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A directory of releases (ldn-graph release --out): serve the newest that verifies, and its downloads.",
)
@_serve_option(
    "store-url",
    default=None,
    help="A SPARQL 1.1 query endpoint holding the graph (Oxigraph: http://HOST:7878/query), answering "
    "instead of the embedded store; load it with ldn-graph load. Downloads still come from --releases.",
)
@_serve_option(
    "store-graph",
    default=None,
    callback=_graph_iri,
    help="The store's graph holding the release, served as the default graph (for a store whose default "
    "graph is the union of its graphs, such as Virtuoso: load it with ldn-graph load --graph IRI).",
)
@_serve_option(
    "store-named-graph",
    "store_named_graphs",
    multiple=True,
    callback=_graph_iri,
    help="A named graph of the store to offer beside the default graph (repeatable; 'none' for none). "
    "Default: the graphs the store holds, or none with --store-graph.",
)
# Fair use per client and hot reload (docs/operations.md); passed to ServeConfig by name.
@_serve_option(
    "client-concurrency",
    default=_SERVE.client_concurrency,
    type=int,
    show_default=True,
    help="Requests in flight per client (0: no limit).",
)
@_serve_option(
    "client-query-time",
    default=_SERVE.client_query_time,
    type=float,
    show_default=True,
    help="Seconds of serving time per client in any --client-window (0: no limit); over it: 429.",
)
@_serve_option(
    "client-window",
    default=_SERVE.client_window,
    type=float,
    show_default=True,
    help="The window, in seconds.",
)
@_serve_option(
    "client-header",
    default=None,
    help="Header naming the client, set by a trusted proxy (X-Forwarded-For: its last address). Only behind "
    "such a proxy: clients could set it themselves.",
)
@_serve_option(
    "fair-use-exempt",
    multiple=True,
    default=_SERVE.fair_use_exempt,
    show_default=True,
    help="A network whose clients are never limited (repeatable); 'none' for none.",
)
# Slow clients and HTTP caching (docs/operations.md); passed to ServeConfig by name.
@_serve_option(
    "header-timeout",
    default=_SERVE.header_timeout,
    type=click.FloatRange(min=0.001),
    show_default=True,
    help="Seconds a client may take to send a request's headers, and may leave a connection idle "
    "between requests, before it is closed.",
)
@_serve_option(
    "connections",
    default=_SERVE.connections,
    type=click.IntRange(min=1),
    show_default=True,
    help="Connections each worker keeps open at once; more wait in the kernel's queue.",
)
@_serve_option(
    "max-age",
    default=_SERVE.max_age,
    type=click.IntRange(min=0),
    show_default=True,
    help="Seconds browsers and shared caches may reuse a GET answer before asking again (Cache-Control).",
)
@_serve_option(
    "shared-max-age",
    default=None,
    type=click.IntRange(min=0),
    help="Seconds shared caches (a proxy or CDN in front) may reuse a GET answer, when that differs "
    "from --max-age (s-maxage): longer if you purge that cache on each reload.",
)
@_serve_option(
    "pid-file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the server's PID here, for ldn-graph reload.",
)
def serve(
    host,
    port,
    base_url,
    timeout,
    max_rows,
    workers,
    cache_mb,
    threads,
    service_allow,
    data,
    release_file,
    releases_dir,
    store_url,
    store_graph,
    store_named_graphs,
    **limits,
) -> None:
    """Serve the graph: SPARQL endpoint, entity pages and downloads."""
    from ldn_graph.web.server import run_server

    if release_file and releases_dir:
        raise click.UsageError("give --release FILE or --releases DIR, not both")
    if store_url and (release_file or data):
        raise click.UsageError(
            "--store-url serves what the remote store holds: load --release and --data into it with "
            "ldn-graph load --store-url GRAPH-STORE-URL --release FILE --data FILE"
        )
    if (store_graph or store_named_graphs) and not store_url:
        raise click.UsageError("--store-graph and --store-named-graph choose graphs of --store-url")

    from ldn_graph.graph.release import InvalidGraph

    config = ServeConfig(
        host=host,
        port=port,
        base_url=base_url,
        timeout=timeout,
        max_rows=max_rows,
        workers=workers,
        cache_bytes=int(cache_mb * _MIB),
        threads=threads,
        service_allow=tuple(service_allow),
        data=tuple(data),
        release_file=release_file,
        releases=releases_dir,
        store_url=store_url,
        store_graph=store_graph,
        # Given (even as 'none'): those graphs; not given: the store is asked.
        store_named_graphs=store_named_graphs if _given("store_named_graphs") else None,
        **limits,
    )
    try:
        run_server(config)
    except InvalidGraph as refused:  # given no graph, serve releases the sources first: say what is wrong
        for violation in refused.report.violations:
            click.echo(violation.describe())
        raise


@main.command()
@click.option(
    "--pid-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The --pid-file the server was started with.",
)
@click.option("--wait", default=120.0, type=float, show_default=True, help="Seconds to wait for the outcome.")
def reload(pid_file: Path, wait: float) -> None:
    """Make a running server serve the newest release that verifies (exit 0 loaded, 1 refused, 2 error).

    The server loads and checks the new graph before it changes anything; a release that fails leaves
    the old graph serving."""
    from ldn_graph.serving.reload import request_reload

    click.echo(f"asking the server of {pid_file} to reload; waiting for it to load the graph", err=True)
    outcome = request_reload(pid_file, wait)
    served = f"release {outcome.release}" if outcome.release else f"graph version {outcome.version}"
    click.echo(f"{outcome.message}: serving {served} ({outcome.triples:,} triples)", err=True)
    sys.exit(EXIT_OK if outcome.loaded else EXIT_VIOLATIONS)


# --- Linking with other graphs: link health, SSSOM mapping set, KGX export ---------------------------


@main.group()
def links() -> None:
    """Check the graph's identifiers and mappings against the reference table."""


@links.command("check")
@_root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--strict", is_flag=True, help="Fail on gaps (entities of a mapped kind with no identifier) too."
)
def links_check(data_dir: Path | None, fmt: str, strict: bool) -> None:
    """Offline link health (exit 0 healthy, 1 findings, 2 error)."""
    from ldn_graph.graph.links import check_project

    started = time.perf_counter()
    report = check_project(data_dir)
    if fmt == "json":
        click.echo(report.to_json())
    else:
        for finding in report.findings:
            click.echo(f"{finding.severity}: {finding.describe()}")
        click.echo(
            f"{len(report.errors)} error(s), {len(report.gaps)} gap(s) in {report.identifiers} identifiers and "
            f"{report.mappings} mappings ({time.perf_counter() - started:.2f} s)",
            err=True,
        )
    sys.exit(EXIT_OK if report.healthy(strict) else EXIT_VIOLATIONS)


@main.command()
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The SSSOM TSV file."
)
@_root_option
def mappings(out: Path, data_dir: Path | None) -> None:
    """Write every emitted identifier as an SSSOM mapping set (TSV with its YAML metadata)."""
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.mappings import build_mapping_set, write_mapping_set
    from ldn_graph.graph.reference_table import load_reference_table

    result = build_graph(data_dir)
    mapping_set = build_mapping_set(
        result.graph, load_reference_table(data_dir), result.version, result.issued
    )
    write_mapping_set(out, mapping_set)
    click.echo(f"wrote {len(mapping_set.mappings)} mappings to {out}", err=True)


@main.group()
def export() -> None:
    """Export the graph in other graphs' formats."""


@export.command("kgx")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory."
)
@_root_option
def export_kgx_command(out: Path, data_dir: Path | None) -> None:
    """Write KGX nodes and edges TSV (Biolink) for Monarch / KG-Hub tools."""
    from ldn_graph.graph.build import build_graph
    from ldn_graph.graph.kgx import export_kgx, write_kgx
    from ldn_graph.graph.reference_table import load_reference_table

    result = build_graph(data_dir)
    export = export_kgx(result.graph, load_reference_table(data_dir))
    nodes, edges = write_kgx(out, export)
    click.echo(
        f"wrote {len(export.nodes)} nodes to {nodes} and {len(export.edges)} edges to {edges}", err=True
    )
