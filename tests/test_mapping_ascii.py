"""A text input of ASCII bytes only is read as UTF-8 (no transcoding), with the same rows.

:func:`workbench.mapping.files.scan` notes, while it hashes, whether every byte of a text
file is ASCII in an encoding where ASCII bytes are ASCII letters (cp1252, Latin-1, UTF-8);
the readers then skip pyarrow's transcoding. The case must be the one reading in the
declared encoding gives: checked here on the kit's hand-over and on hand-written files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mappingkit import case_rows, write_handover

from workbench.mapping import files, ingest_mapped, schema as mapping_schema
from workbench.mapping.files import SourceFile, resolve, scan


def _scanned(root: Path, mapping: Path) -> dict[str, list[SourceFile]]:
    inputs = resolve(root, mapping_schema.load(mapping))
    for sources in inputs.values():
        for f in sources:
            scan(f)
    return inputs


def test_ascii_noted_per_file(tmp_path):
    mapping = write_handover(tmp_path)
    inputs = _scanned(tmp_path, mapping)
    noted = {f.label: (f.ascii, f.read_encoding) for fs in inputs.values() for f in fs}
    assert noted["logs/u_ex131213.log"] == (True, "utf-8")
    # the applicants export holds "ö" and "å" in cp1252: read as declared
    assert noted["export/sokande_2014.csv"] == (False, "cp1252")
    assert noted["ko.sqlite#handlers"][0] is False  # a database is not a text file


@pytest.mark.parametrize(
    ("encoding", "data", "expected"),
    [
        ("cp1252", b"a;b\n1;2\n", True),
        ("cp1252", b"a;b\n1;\xf6\n", False),  # one byte above 127
        ("latin-1", b"a;b\n1;2\n", True),
        ("utf-8", b"a;b\n1;2\n", True),
        ("utf-8", "a;b\n1;ö\n".encode(), False),
        ("utf-16-le", "a;b\n1;2\n".encode("utf-16-le"), False),  # its ASCII-looking bytes are not letters
    ],
)
def test_ascii_only_in_ascii_compatible_encodings(tmp_path, encoding, data, expected):
    (tmp_path / "t.csv").write_bytes(data)
    (tmp_path / "m.yaml").write_text(
        "version: 1\ntimezone: Europe/Stockholm\ntables:\n  deployments:\n"
        f"    source: {{csv: t.csv, delimiter: ';', encoding: {encoding}}}\n"
        "    columns: {time: a, version: b, description: null}\n",
        encoding="utf-8",
    )
    (f,) = _scanned(tmp_path, tmp_path / "m.yaml")["deployments"]
    assert f.ascii is expected
    assert f.read_encoding == ("utf-8" if expected else encoding)


def test_ascii_seen_across_chunks(tmp_path, monkeypatch):
    """A high byte in a later chunk than the first still makes the file not ASCII."""
    monkeypatch.setattr(files, "_CHUNK", 8)
    (tmp_path / "t.csv").write_bytes(b"a;b\n" + b"1;2\n" * 10 + b"3;\xe5\n")
    (tmp_path / "m.yaml").write_text(
        "version: 1\ntimezone: Europe/Stockholm\ntables:\n  deployments:\n"
        "    source: {csv: t.csv, delimiter: ';', encoding: cp1252}\n"
        "    columns: {time: a, version: b, description: null}\n",
        encoding="utf-8",
    )
    (f,) = _scanned(tmp_path, tmp_path / "m.yaml")["deployments"]
    assert f.ascii is False


def test_case_is_the_same_as_read_in_the_declared_encoding(tmp_path, monkeypatch):
    mapping = write_handover(tmp_path / "h")
    # An ASCII-only cp1252 export with a malformed record among good ones
    logins = (tmp_path / "h" / "export" / "inloggningar.csv").read_bytes()
    ascii_logins = logins.replace("ö".encode("cp1252"), b"o").replace("Ö".encode("cp1252"), b"O")
    lines = ascii_logins.split(b"\n")
    lines.insert(2, b"broken;record")
    (tmp_path / "h" / "export" / "inloggningar.csv").write_bytes(b"\n".join(lines))
    text = mapping.read_text(encoding="utf-8").replace('"Lösenord": password', '"Losenord": password')
    mapping.write_text(text, encoding="utf-8")
    seen = []
    real = SourceFile.read_encoding.fget
    monkeypatch.setattr(SourceFile, "read_encoding", property(lambda f: seen.append((f.label, real(f))) or real(f)))
    fast = ingest_mapped(tmp_path / "h", mapping, tmp_path / "fast.db", progress=False, workers=1)
    assert ("export/inloggningar.csv", "utf-8") in seen  # read without transcoding
    assert ("export/sokande_2014.csv", "cp1252") in seen
    monkeypatch.setattr(SourceFile, "read_encoding", property(lambda f: f.spec.encoding))
    slow = ingest_mapped(tmp_path / "h", mapping, tmp_path / "slow.db", progress=False, workers=1)
    assert [(r.file, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in fast.files] == [
        (r.file, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in slow.files
    ]
    assert any(r.rows_quarantined for r in fast.files if r.file == "export/inloggningar.csv")
    a, b = case_rows(tmp_path / "fast.db"), case_rows(tmp_path / "slow.db")
    assert a.keys() == b.keys()
    for table in a:
        if table != "manifest":
            assert a[table] == b[table], table
