"""Memory per open connection, and whether it comes back: what the server holds for its clients' sockets.

    python bench/connections.py --connections 200 --rounds 5

granian keeps each keep-alive connection's state and buffers in the worker that accepted it, so a
server's memory follows how many connections are open at once, not how many requests it has answered.
This opens ``--connections`` keep-alive connections at once, each carrying one request (an entity page,
or a 150-KB query that is refused with 413, which grows the connection's read buffer), samples the
long-lived processes' private memory (as bench/soak.py does), closes them all, and does it again
``--rounds`` times. Memory that a round's connections free and the next round's take again stays level
from round to round; a leak per connection would climb.

Prints, per kind and round: the memory with the connections open and after they closed, and the
difference from before the first round per connection. Results go to bench/results/connections.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from endpoint import _free_port, _start
from soak import _memory_sample, serve_command

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
LARGE_QUERY = 'ASK { FILTER("' + "x" * 150_000 + '" = "y") }'  # over the query-size limit: 413
SETTLE = 2.0  # seconds for the workers to finish their answers before memory is sampled


def _request(kind: str, client: int) -> bytes:
    head = f"Host: 127.0.0.1\r\nX-Client: bench-{client % 20}\r\n"
    if kind == "large":
        body = LARGE_QUERY.encode()
        head += f"Content-Type: application/sparql-query\r\nContent-Length: {len(body)}\r\n"
        return f"POST /sparql HTTP/1.1\r\n{head}\r\n".encode() + body
    return f"GET /id/naltrexone.ttl HTTP/1.1\r\n{head}Accept: text/turtle\r\n\r\n".encode()


def _status(connection: socket.socket) -> int:
    """Read one whole answer (it has a Content-Length) off ``connection``; its status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        if not (chunk := connection.recv(65536)):
            raise ConnectionError("the server closed the connection before answering")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
    length = int({k.lower(): v for k, v in fields.items()}[b"content-length"])
    while len(body) < length:
        body += connection.recv(65536)
    return int(head.split()[1])


def _still_open(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) != b""  # data would be a protocol error; b"": closed by the server
    except BlockingIOError:
        return True
    except OSError:
        return False


def _held(master: int) -> float:
    """The long-lived processes' private memory in MB, the median of three samples."""
    return statistics.median(_memory_sample(master)[2] for _ in range(3))


def _open(port: int, kind: str, count: int) -> tuple[list[socket.socket], set[int]]:
    connections, statuses = [], set()
    for client in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        connection.sendall(_request(kind, client))
        statuses.add(_status(connection))
        connections.append(connection)
    return connections, statuses


def measure(port: int, master: int, kind: str, count: int, rounds: int) -> dict:
    for client in range(400):  # warm the workers with this kind of request, one connection at a time
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(_request(kind, client))
            _status(connection)
    time.sleep(SETTLE)
    before = _held(master)
    result = {"kind": kind, "connections": count, "before_mb": before, "rounds": []}
    for number in range(1, rounds + 1):
        connections, statuses = _open(port, kind, count)
        time.sleep(SETTLE)
        held = _held(master)
        still_open = sum(_still_open(connection) for connection in connections)
        for connection in connections:
            connection.close()
        time.sleep(SETTLE)
        after = _held(master)
        result["rounds"].append(
            {
                "round": number,
                "statuses": sorted(statuses),
                "still_open": still_open,
                "open_mb": held,
                "closed_mb": after,
                "kb_per_connection": (held - before) / count * 1024,
            }
        )
        print(render([result]).splitlines()[-1], file=sys.stderr, flush=True)
    return result


def render(results: list[dict]) -> str:
    lines = [
        "| requests carried | round | statuses | connections open when sampled | MB before the first round | MB with them open | MB after closing | KB per connection (open − before) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for r in result["rounds"]:
            lines.append(
                f"| {result['kind']} | {r['round']} | {', '.join(map(str, r['statuses']))} | "
                f"{r['still_open']} of {result['connections']} | {result['before_mb']:.2f} | {r['open_mb']:.2f} | "
                f"{r['closed_mb']:.2f} | {r['kb_per_connection']:+.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--connections", type=int, default=200, help="open at once in each round (default 200)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="per kind of request (default 5)")
    args = parser.parse_args()
    if args.connections < 1 or args.rounds < 1:
        parser.error("--connections and --rounds must be at least 1")
    from ldn_graph.graph.release import make_release

    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ldn-connections-") as scratch:
        workdir = Path(scratch)
        make_release(workdir / "releases")
        port = _free_port()
        command = serve_command(port, workdir / "releases", timeout=1, cache_mb=0.25)
        server = _start("ldn-graph-connections", command, f"http://127.0.0.1:{port}/sparql", workdir)
        try:
            results = []
            for kind in ("entity", "large"):
                print(f"{kind}: {args.rounds} rounds of {args.connections} connections ...", file=sys.stderr)
                results.append(measure(port, server.process.pid, kind, args.connections, args.rounds))
        finally:
            server.stop()
    table = render(results)
    print(table)
    (RESULTS / "connections.md").write_text(table + "\n", encoding="utf-8")
    (RESULTS / "connections.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written: {RESULTS / 'connections.md'}, connections.json", file=sys.stderr)


if __name__ == "__main__":
    main()
