"""``extract`` patterns cut by splitting (:mod:`workbench.mapping.extract`) give what the regular expression gives."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from workbench.mapping.extract import cut, literal_then_up_to

COOKIE = r"ASP\.NET_SessionId=([^;]+)"


@pytest.mark.parametrize(
    ("pattern", "shape"),
    [
        (COOKIE, ("ASP.NET_SessionId=", ";")),
        (r"sid=([^&]+)", ("sid=", "&")),
        (r"a\(b\)=([^ ]+)", ("a(b)=", " ")),
        (r"a.b=([^;]+)", None),  # '.' is any character: not a literal
        (r"x=([^;]*)", None),  # may be empty
        (r"(?i)x=([^;]+)", None),
        (r"^x=([^;]+)", None),
        (r"x=([^;]+);", None),
        (r"([^;]+)", None),  # no literal
        (r"x=([^;\d]+)", None),
        (r"(\d+)", None),
    ],
)
def test_only_a_literal_then_a_run_up_to_one_character_is_cut(pattern, shape):
    assert literal_then_up_to(pattern) == shape


VALUES = [
    "ASP.NET_SessionId=abc",
    "lang=sv; ASP.NET_SessionId=abc; theme=dark",
    "ASP.NET_SessionId=abc;ASP.NET_SessionId=def",
    "ASP.NET_SessionId=;ASP.NET_SessionId=def",  # the first is empty: the regex takes the second
    "ASP.NET_SessionId=",
    "ASP.NET_SessionId=;",
    "ASP.NET_SessionId",
    "asp.net_sessionid=abc",  # case matters
    "ASPxNET_SessionId=abc",  # the '.' was escaped: no match
    "Åsa=1; ASP.NET_SessionId=ö\nx;y",
    "",
    None,
]


@pytest.mark.parametrize("size", [1, 2, len(VALUES)])
def test_cut_equals_the_regular_expression_on_every_mix_of_values(size):
    shape = literal_then_up_to(COOKIE)
    assert shape is not None
    for values in itertools.combinations(VALUES, size):
        raw = pl.Series("c", list(values), dtype=pl.String)
        assert cut(raw, COOKIE, shape).to_list() == raw.str.extract(COOKIE, 1).to_list(), values


def test_the_mapping_quarantines_a_cookie_without_session_as_before(tmp_path):
    from workbench.mapping.schema import load
    from workbench.mapping.transform import transform

    (tmp_path / "m.yaml").write_text(
        "version: 1\n"
        "tables:\n"
        "  page_views:\n"
        "    source: {iis: 'u_ex*.log'}\n"
        "    columns:\n"
        "      time: datetime\n"
        "      session_id: {column: 'cs(Cookie)', extract: 'ASP\\.NET_SessionId=([^;]+)'}\n"
        "      ip: c-ip\n"
        "      path: cs-uri-stem\n"
        "      status: sc-status\n"
        "      account_id: X-Kundnr\n"
    )
    table = load(tmp_path / "m.yaml").tables["page_views"]
    frame = pl.DataFrame(
        {
            "datetime": ["2013-12-09T00:00:05Z"] * 3,
            "cs(Cookie)": ["ASP.NET_SessionId=s1", "theme=dark", "ASP.NET_SessionId=;ASP.NET_SessionId=s3"],
            "c-ip": ["10.0.0.1"] * 3,
            "cs-uri-stem": ["/mina-sidor"] * 3,
            "sc-status": ["200"] * 3,
            "X-Kundnr": ["1001"] * 3,
            "__line": [1, 2, 3],
        }
    )
    made, refused = transform(frame, table, False)
    assert made["session_id"].to_list() == ["s1", "s3"] and made["__line"].to_list() == [1, 3]
    assert refused["__line"].to_list() == [2] and "does not match the extract pattern" in refused["reason"][0]
    assert not any(c.startswith("__t") for c in made.columns)
