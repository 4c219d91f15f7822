"""The evidence format: declarations, derived polars schema, documentation, dialects."""

from pathlib import Path

import duckdb_engine
import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from workbench import evidence, evidence_docs
from workbench.errors import UnknownNameError

ROOT = Path(__file__).resolve().parents[1]
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(), "duckdb": duckdb_engine.Dialect()}

# DESIGN.md §3, column by column: the contract the rest of the project builds on.
DESIGN_COLUMNS = {
    "applicants": "applicant_id personnummer name address postal_code city email phone employer annual_income "
    "co_applicant_name co_applicant_personnummer student protected_identity queue_start registered_at status "
    "created_by_handler_id",
    "logins": "time session_id applicant_id method ip user_agent",
    "logouts": "time session_id reason",
    "page_views": "time session_id ip path status account_id",
    "profile_changes": "change_id time session_id account_id field old_value new_value",
    "support_messages": "message_id received_at channel sender_applicant_id sender_address subject body",
    "listings": "listing_id landlord district rooms rent kind published_at closes_at income_rule",
    "interests": "listing_id applicant_id registered_at withdrawn_at session_id",
    "offers": "listing_id applicant_id offered_at handler_id response responded_at response_session_id reason",
    "contracts": "listing_id applicant_id signed_at handler_id",
    "handlers": "handler_id name team active_from active_to",
    "handler_actions": "action_id time handler_id action applicant_id listing_id old_value new_value ip",
}


def test_format_has_version_1():
    assert evidence.FORMAT_VERSION == 1


@pytest.mark.parametrize("name", sorted(DESIGN_COLUMNS))
def test_tables_have_the_designed_columns(name):
    assert [c.name for c in evidence.table(name).columns] == DESIGN_COLUMNS[name].split()


def test_every_design_table_is_declared():
    assert set(DESIGN_COLUMNS) | {"fees", "deployments", "incident_actions"} == set(evidence.TABLES)


@pytest.mark.parametrize("name", evidence.TABLES)
def test_every_column_is_tagged_documented_and_exemplified(name):
    for col in evidence.table(name).columns:
        assert isinstance(col.info.get("pii"), evidence.PII), f"{name}.{col.name} has no personal-data tag"
        assert col.info.get("doc"), f"{name}.{col.name} has no meaning"
        assert "example" in col.info, f"{name}.{col.name} has no example"


def test_personal_data_tags_follow_design():
    direct = {c for t in evidence.TABLES for c in evidence.pii_columns(t, evidence.PII.DIRECT)}
    assert {
        "personnummer",
        "name",
        "address",
        "email",
        "phone",
        "co_applicant_name",
        "co_applicant_personnummer",
        "applicant_id",
        "account_id",
        "ip",
        "sender_address",
    } <= direct
    free = {c for t in evidence.TABLES for c in evidence.pii_columns(t, evidence.PII.FREE_TEXT)}
    assert {"subject", "body", "old_value", "new_value"} <= free
    quasi = evidence.pii_columns("applicants", evidence.PII.QUASI)
    assert {"postal_code", "employer", "annual_income"} <= set(quasi)
    assert "name" in evidence.pii_columns("handlers", evidence.PII.DIRECT)


@pytest.mark.parametrize("name", evidence.TABLES)
def test_polars_schema_is_derived_from_the_declaration(name):
    schema = evidence.polars_schema(name)
    assert list(schema) == [c.name for c in evidence.table(name).columns]
    for col in evidence.table(name).columns:
        dtype = schema[col.name]
        if isinstance(col.type, sa.DateTime):
            assert dtype == pl.Datetime("us", "UTC") and col.type.timezone
        elif isinstance(col.type, sa.Integer):
            assert dtype == pl.Int64 and isinstance(col.type, sa.BigInteger)


def test_no_32_bit_float_anywhere():
    for t in evidence.metadata.tables.values():
        for col in t.columns:
            assert not (isinstance(col.type, sa.Float) and not isinstance(col.type, sa.Double)), f"{t.name}.{col.name}"


def test_enumerations_are_explicit():
    assert evidence.allowed_values("offers", "response") == ("accepted", "declined", "no_answer", "disqualified")
    assert set(evidence.allowed_values("listings", "kind")) == {
        "regular",
        "student",
        "youth",
        "senior",
        "short_term",
        "new_build",
    }
    assert {"queue_date_change", "manual_offer", "skip", "priority_grant", "profile_edit", "profile_created"} <= set(
        evidence.allowed_values("handler_actions", "action")
    )
    assert evidence.allowed_values("logins", "ip") is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_table_compiles_on_every_dialect(dialect):
    for t in evidence.metadata.tables.values():
        ddl = str(CreateTable(t).compile(dialect=DIALECTS[dialect]))
        assert "SERIAL" not in ddl.upper(), "DuckDB has no SERIAL: keys must not autoincrement"


def test_unknown_table_suggests_the_close_name():
    with pytest.raises(UnknownNameError, match=r"unknown table 'page_view'\. Did you mean 'page_views'"):
        evidence.table("page_view")


def test_docs_match_the_declarations():
    doc = (ROOT / "docs" / "evidence-format.md").read_text()
    assert doc == evidence_docs.render_markdown(), "docs/evidence-format.md drifted: run `workbench docs`"


def test_docs_mention_every_column():
    doc = evidence_docs.render_markdown()
    for t in evidence.metadata.tables.values():
        section = doc.split(f"## `{t.name}`")[1].split("\n## ")[0]
        for col in t.columns:
            assert f"| `{col.name}` |" in section


def test_page_fields_match_concrete_paths():
    assert evidence.page_fields("/mina-sidor/profil") == evidence.PROFILE_FIELDS
    assert evidence.page_fields("/lagenhet/210345/intresse") == ("name", "applicant_id")
    assert evidence.page_fields("/mina-sidor/intressen/17/ta-bort") == ("name", "applicant_id")
    assert evidence.page_fields("/lagenhet/210345") == ()
    assert evidence.page_fields("/sok?omrade=Bromma") == ()
