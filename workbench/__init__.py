"""Housing-queue investigation workbench: evidence, synthetic cases, queries and reports."""

from importlib.metadata import PackageNotFoundError as _NotFound, version as _version

from .case import open_case
from .errors import WorkbenchError

try:
    __version__ = _version("workbench")
except _NotFound:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["WorkbenchError", "open_case"]
