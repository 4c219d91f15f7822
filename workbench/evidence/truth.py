"""The shape of the ground truth the generator writes beside a synthetic case's evidence."""

from __future__ import annotations

import polars as pl

__all__ = ["TRUTH_TABLES"]

# Ground truth written by the generator, never read by analysis code. Not part of the
# evidence contract, but its shape is fixed so tests can rely on it.
TRUTH_TABLES: dict[str, dict[str, pl.DataType]] = {
    "swapped_sessions": {
        "session_id": pl.String(),
        "authenticated_applicant_id": pl.Int64(),
        "bound_account_id": pl.Int64(),
        "bound_at": pl.Datetime("us", "UTC"),
    },
    "unauthorized_changes": {
        "change_id": pl.Int64(),
        "actor_applicant_id": pl.Int64(),
        "owner_account_id": pl.Int64(),
        "field": pl.String(),
    },
    "fault_reports": {"message_id": pl.String()},
    "allocation_touched": {"kind": pl.String(), "key": pl.String(), "session_id": pl.String()},
    "corrupt_handlers": {"handler_id": pl.Int64()},
    "fraudulent_allocations": {"listing_id": pl.Int64(), "applicant_id": pl.Int64(), "handler_id": pl.Int64()},
    "fake_profiles": {"applicant_id": pl.Int64(), "handler_id": pl.Int64()},
    "priority_allocations": {"listing_id": pl.Int64(), "applicant_id": pl.Int64()},
    "clock_offsets": {"source": pl.String(), "seconds": pl.Int64()},
}
