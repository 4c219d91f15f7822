"""The query library: named, registered questions run on any engine as polars frames.

Example::

    from workbench import queries
    queries.run("activity_per_hour", case)
    print(queries.describe("incident_window", case))
"""

# Importing a domain module registers its queries.
from . import absence, exposure, fairness, incident, overview  # noqa: F401
from .registry import (
    REQUIRED,
    FromQuery,
    Param,
    Query,
    QueryParameterError,
    get,
    list_queries,
    names,
    query,
    register,
)
from .runner import DIALECTS, column_tags, describe, dialect, last_params, run, run_parts

__all__ = [
    "DIALECTS",
    "REQUIRED",
    "FromQuery",
    "Param",
    "Query",
    "QueryParameterError",
    "column_tags",
    "describe",
    "dialect",
    "get",
    "last_params",
    "list_queries",
    "names",
    "query",
    "register",
    "run",
    "run_parts",
]
