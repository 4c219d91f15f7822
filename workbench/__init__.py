"""Housing-queue investigation workbench: evidence, synthetic cases, queries and reports.

``open_case`` is imported from :mod:`workbench.case` when first used, so importing a light
module (``workbench.errors``, the kernel's extension) does not load SQLAlchemy and polars.
"""

from __future__ import annotations

import typing as _typing
from importlib.metadata import PackageNotFoundError as _NotFound, version as _version

from .errors import WorkbenchError

if _typing.TYPE_CHECKING:
    from .case import open_case

try:
    __version__ = _version("workbench")
except _NotFound:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["WorkbenchError", "open_case"]


def __getattr__(name: str) -> _typing.Any:
    if name != "open_case":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .case import open_case

    globals()[name] = open_case  # once: the next use finds it here
    return open_case


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
