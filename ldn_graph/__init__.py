"""ldn-graph: a linked-data knowledge graph of low-dose naltrexone."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ldn-graph")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
