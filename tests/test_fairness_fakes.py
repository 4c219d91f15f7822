"""fakes._sharing: how many other profiles share a contact, joined only on keys held by two or more."""

from __future__ import annotations

import numpy as np
import polars as pl

from workbench.fairness.fakes import _sharing


def _by_every_pair(members: pl.DataFrame, login_ips: pl.DataFrame) -> pl.DataFrame:
    """The definition, as first written: every key with its kind, every pair of profiles holding it."""
    digits = pl.col("phone").str.replace_all(r"\D", "")
    keys = (
        pl.concat(
            [
                members.select(
                    "applicant_id", key=pl.lit("email:") + pl.col("email").str.to_lowercase().str.strip_chars()
                ),
                members.select("applicant_id", key=pl.lit("phone:") + digits),
                login_ips.select("applicant_id", key=pl.lit("ip:") + pl.col("ip")),
            ]
        )
        .drop_nulls("key")
        .unique()
    )
    pairs = keys.join(keys.rename({"applicant_id": "other"}), on="key").filter(
        pl.col("other") != pl.col("applicant_id")
    )
    return pairs.group_by("applicant_id").agg(n_sharing=pl.col("other").n_unique().cast(pl.Int64))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("applicant_id")


def test_hand_written_contacts():
    members = pl.DataFrame(
        {
            "applicant_id": [1, 2, 3, 4, 5, 6, None],
            "email": ["A@x.se", " a@x.se", "b@x.se", None, "c@x.se", "", ""],
            # 3 and 4 share a phone; 5 and 6 have no digit at all, so they share the empty number
            "phone": ["070-1", "070-2", "070 3", "0703", "n/a", "-", "070-1"],
        }
    )
    # 1 and 4 share an IP; 2 logged in twice from one IP alone; the same pair (3, 4) shares two kinds
    ips = pl.DataFrame(
        {
            "applicant_id": [1, 4, 2, 2, 3, 4, None],
            "ip": ["10.0.0.1", "10.0.0.1", "10.9.9.9", "10.9.9.9", "8.8.8.8", "8.8.8.8", "8.8.8.8"],
        }
    )
    got = _sorted(_sharing(members, ips))
    # 1: 2 (e-mail), 4 (IP); 2: 1; 3: 4 (phone and IP, counted once); 4: 3, 1; 5: 6; 6: 5; the null id counts for nobody
    assert dict(got.iter_rows()) == {1: 2, 2: 1, 3: 1, 4: 2, 5: 1, 6: 1}
    assert got.equals(_sorted(_by_every_pair(members, ips)))


def test_random_registers_equal_every_pair():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(1, 60))
        members = pl.DataFrame(
            {
                "applicant_id": rng.integers(0, n, n),  # repeated ids too
                "email": [f"{'ABab'[i % 4]}{i % 5}@x.se" if i % 7 else None for i in rng.integers(0, 40, n)],
                "phone": [f"07-{i % 6}" if i % 9 else "x" for i in rng.integers(0, 40, n)],
            }
        )
        m = int(rng.integers(0, 40))
        ips = pl.DataFrame({"applicant_id": rng.integers(0, n, m), "ip": [f"1.1.1.{i}" for i in rng.integers(0, 8, m)]})
        assert _sorted(_sharing(members, ips)).equals(_sorted(_by_every_pair(members, ips)))
    empty = _sharing(members.clear(), ips.clear())
    assert empty.height == 0 and empty.columns == ["applicant_id", "n_sharing"]
