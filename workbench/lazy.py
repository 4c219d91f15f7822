"""A package's public names, each imported from its module when first used (PEP 562).

A package whose ``__init__`` imported every module paid for all of them on any import: the
``workbench`` command built its parser through ``workbench.ingest`` and
``workbench.mapping`` and so loaded SQLAlchemy, pandas and pyarrow's datasets before it
read its arguments, and the kernel's extension loaded nbformat and the renderers. With
:func:`lazy_names` a package lists where each name lives and imports nothing up front::

    __getattr__, __dir__ = _lazy_names(__name__, {"ingest": "pipeline"}, __all__)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, modules: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``: ``name`` comes from ``.modules[name]``.

    A name is imported once, then kept in the package's namespace, so the next use is a plain
    attribute. Every name of ``public`` (``__all__``) must be in ``modules`` or defined in the package.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{modules[name]}", package), name)
        namespace[name] = value  # once: the next use finds it here
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__
