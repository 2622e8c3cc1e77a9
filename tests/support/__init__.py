"""Helpers the test folders share, importable as ``support.*`` (``pythonpath`` in pyproject.toml): the
real server and stores as processes, a counting listener, raw HTTP, slow clients, and the timing policy."""
