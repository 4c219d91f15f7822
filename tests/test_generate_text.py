"""Text the generator now makes off its main thread or without numpy strings: the people's text
in a thread beside their draws, the web sessions' cookies, IPs, reasons and methods straight as
polars text. That the files are unchanged is checked by ``tests/test_generate_stream.py``'s
content hashes, pinned before any of this existed; here, the pieces on hand-written values
against the formulas they replace, where the people's text is made, and that its errors reach
the caller."""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pytest

from workbench.scenario import people, web
from workbench.scenario.world import World, scale


def test_people_text_on_hand_written_codes():
    area = np.array([True, False, True])
    postal = people._postal_codes(area, np.array([1, 0, 0]), np.array([7, 4, 9]), np.array([42, 12345, 99999]))
    assert postal.to_list() == ["160 00", "412 34", "199 99"]  # "16"+"00042", "4"+"12345", "1"+"99999"
    street = people._street(pl.Series(["Stor", "Lill"]), pl.Series(["gatan", "vägen"]), np.array([3, 119]))
    assert street.to_list() == ["Storgatan 3", "Lillvägen 119"]
    assert people._phone(pl.Series(["070", "079"]), np.array([42, 9876543])).to_list() == [
        "070-000 00 42",
        "079-987 65 43",
    ]
    names = people._names(pl.Series(["Åsa", "Erik"]), np.array(["Öberg", "Lind"]), np.array([1, 0]), np.array([0, 1]))
    assert names.to_list() == ["Erik Öberg", "Åsa Lind"]
    email = people._email(
        pl.Series(["Åsa", "Anna Lena"]), np.array(["Öberg"]), np.array([0, 1]), np.array([0, 0]),
        np.array([1_000_007, 2_123_456]), pl.Series(["example.com", "post.example"]),
    )  # fmt: skip
    assert email.to_list() == ["asa.oberg.000007@example.com", "annalena.oberg.123456@post.example"]
    ips = people._ips(np.array([78, 217]), np.array([0, 255]), np.array([10, 1]), np.array([1, 254]))
    assert ips.to_list() == ["78.0.10.1", "217.255.1.254"]


def test_ip_draws_are_the_draws_of_one_address_after_another():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    first, second, third, fourth = people._ip_draws(a, 50)
    assert np.array_equal(first, b.choice(people.IP_FIRST_OCTETS, 50))
    assert np.array_equal(second, b.integers(0, 256, 50)) and np.array_equal(third, b.integers(0, 256, 50))
    assert np.array_equal(fourth, b.integers(1, 255, 50))
    assert a.random() == b.random()  # nothing more drawn


def test_people_text_is_made_beside_the_draws_and_its_errors_reach_the_caller(monkeypatch):
    seen: set[str] = set()
    real = people._street

    def spy(*args):
        seen.add(threading.current_thread().name.split("_")[0])
        return real(*args)

    monkeypatch.setattr(people, "_street", spy)
    world = World(scale("tiny"), 1)
    people.simulate_people(world)
    assert seen == {"people-text"}
    assert world.tables["applicants"]["address"].str.contains(r" \d+$").all()

    def broken(*args):
        raise RuntimeError("street text failed")

    monkeypatch.setattr(people, "_street", broken)
    with pytest.raises(RuntimeError, match="street text failed"):
        people.simulate_people(World(scale("tiny"), 1))
    assert not any(t.name.startswith("people-text") for t in threading.enumerate())


def test_session_ids_are_the_hex_cookies_of_the_same_draws():
    got = web._session_ids(np.random.default_rng(9), 1000)
    old = np.frombuffer(np.random.default_rng(9).bytes(16 * 1000).hex().encode(), dtype="S32").astype("U32")
    assert got.dtype == pl.String and got.to_list() == old.tolist()
    assert got.str.contains("^[0-9a-f]{32}$").all() and got.n_unique() == 1000
    assert web._session_ids(np.random.default_rng(9), 0).len() == 0


def test_two_valued_text_is_np_where_of_the_same_mask():
    mask = np.array([True, False, False, True])
    got = web._text(("timeout", "user"), mask)
    assert got.dtype == pl.String and got.to_list() == np.where(mask, "user", "timeout").tolist()


def test_login_ips_are_mobile_where_mobile_and_home_elsewhere():
    mobile = np.array([False, True, False, True, True])
    home = pl.Series("_home_ip", ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"])
    rng, old_rng = np.random.default_rng(3), np.random.default_rng(3)
    got = web._ips(rng, mobile, home)
    # the formula it replaces: every login's mobile address made text, then chosen by the mask
    net = pl.Series(old_rng.choice(web._MOBILE_NETS, 5))
    c, d = (pl.Series(old_rng.integers(lo, 255, 5)).cast(pl.String) for lo in (0, 1))
    old = pl.select(pl.when(pl.Series(mobile)).then(net + "." + c + "." + d).otherwise(home)).to_series()
    assert got.to_list() == old.to_list()
    assert got[0] == "1.1.1.1" and got[2] == "3.3.3.3" and got[1] != "2.2.2.2"
    assert home.to_list()[1] == "2.2.2.2"  # the home IPs are not written over
    assert rng.random() == old_rng.random()  # the same draws, no more
