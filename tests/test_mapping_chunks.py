"""The IIS reader's chunks of whole lines (``weblogs.utf8_blocks``): the same chunks as joining
each unfinished line to the next read, though it is read again instead (no copy of a chunk).

The reference below is the joining reader as it was; the two must give the same ``(data, end)``
pairs, byte for byte, on hand-written edges and on random files at small chunk sizes.
"""

from __future__ import annotations

import codecs
import random

import pytest

from workbench.mapping import weblogs


def _joined(path, chunk: int) -> list[tuple[bytes, int]]:
    """The reader before: the unfinished line carried over and joined to the next read."""
    out, carry = [], b""
    with open(path, "rb") as fh:
        if fh.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            fh.seek(0)
        while True:
            data = fh.read(chunk)
            if not data:
                if carry:
                    out.append((carry, len(carry)))
                return out
            data = carry + data
            cut = data.rfind(b"\n")
            carry = data[cut + 1 :]
            if cut >= 0:
                out.append((data, cut))


EDGES = [
    b"",
    b"\n",
    b"no line end at all",
    b"one line\n",
    b"a\nb\nc",
    b"a\r\nb\r\n",
    b"\n\n\n",
    codecs.BOM_UTF8 + b"#Fields: date\r\n2013-12-13\r\n",
    codecs.BOM_UTF8,
    b"x" * 50 + b"\n" + b"y" * 3,  # a line longer than several chunks
    b"short\n" + b"z" * 40,  # ends in a long line without a line end
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 16, 1 << 20])
@pytest.mark.parametrize("data", EDGES, ids=range(len(EDGES)))
def test_chunks_are_the_joined_readers_on_edges(tmp_path, monkeypatch, chunk, data):
    path = tmp_path / "u.log"
    path.write_bytes(data)
    monkeypatch.setattr(weblogs, "_CHUNK", chunk)
    got = list(weblogs.utf8_blocks(path))
    assert got == _joined(path, chunk)
    # Every byte after the BOM is in exactly one chunk, in order
    body = data.removeprefix(codecs.BOM_UTF8)
    assert b"".join(d[:end] + d[end : end + 1] for d, end in got) == body


def test_chunks_are_the_joined_readers_on_random_files(tmp_path, monkeypatch):
    rng = random.Random(16)
    for n in range(300):
        parts = [rng.choice([b"a", b"bb", b" ", b"\n", b"\r\n", b"\xc3\xa5", b"#"]) for _ in range(rng.randint(0, 60))]
        path = tmp_path / f"u{n}.log"
        path.write_bytes(b"".join(parts))
        chunk = rng.randint(1, 12)
        monkeypatch.setattr(weblogs, "_CHUNK", chunk)
        assert list(weblogs.utf8_blocks(path)) == _joined(path, chunk), (n, chunk)
