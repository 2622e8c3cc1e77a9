"""HTTP/1.1 at the socket, for tests that must see exactly what crosses the wire."""

from __future__ import annotations

import socket


def read_message(connection: socket.socket) -> bytes:
    """Read one whole request or response (its body sized by Content-Length, none without one).

    Returns what was read; less than a whole message when the other end closed first.
    """
    data = b""
    while b"\r\n\r\n" not in data:
        if not (chunk := connection.recv(65536)):
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [
        line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    ]
    missing = int(lengths[0]) - len(body) if lengths else 0
    while missing > 0 and (chunk := connection.recv(65536)):
        body += chunk
        missing -= len(chunk)
    return head + b"\r\n\r\n" + body
