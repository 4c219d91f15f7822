"""benchmarks/bench_demo.py times what ``make demo`` runs: every workbench command of its recipe, in order."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench_demo():
    spec = importlib.util.spec_from_file_location("bench_demo", ROOT / "benchmarks" / "bench_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _recipe_commands(makefile: str, demo: str, scale: str, seed: str) -> list[list[str]]:
    """The ``$(BIN)/workbench …`` commands of the Makefile's ``demo`` recipe, variables filled in."""
    recipe = ("\n" + makefile).split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    out = []
    for line in recipe.splitlines():
        if "$(BIN)/workbench " not in line or line.lstrip().startswith("@#"):
            continue
        text = line.split("$(BIN)/workbench ", 1)[1]
        text = text.replace("$(DEMO)", demo).replace("$(SCALE)", scale).replace("$(SEED)", seed)
        out.append(shlex.split(text))
    return out


def test_the_benchmark_runs_every_workbench_command_of_make_demo_in_its_order(tmp_path):
    demo = tmp_path / "demo"
    timed = _bench_demo().commands("stockholm", demo, seed=3)
    made = _recipe_commands((ROOT / "Makefile").read_text(encoding="utf-8"), str(demo), "stockholm", "3")
    assert len(made) >= 3  # generate, ingest, the four sets
    assert [argv[3:] for argv in timed.values()] == made
    reports = [argv for argv in made if argv[0] == "report"]
    # one report run: the Swedish public set is one more copy of it, not a run of its own
    assert len(reports) == 1
    assert "public:sv" in reports[0][reports[0].index("--audience") + 1].split(",")


def test_a_recipe_command_the_benchmark_lacks_is_seen():
    makefile = (
        "demo: install\n"
        "\t$(BIN)/workbench generate --scale $(SCALE) --seed $(SEED) --out $(DEMO)/case\n"
        "\t@# a comment naming $(BIN)/workbench is not a command\n"
        "\tX=1 \\\n\t  $(BIN)/workbench report --case c --audience public --out $(DEMO)/r\n"
        "\n"
        "other:\n\t$(BIN)/workbench report --never\n"
    )
    assert _recipe_commands(makefile, "/d", "tiny", "1") == [
        ["generate", "--scale", "tiny", "--seed", "1", "--out", "/d/case"],
        ["report", "--case", "c", "--audience", "public", "--out", "/d/r"],
    ]


def test_the_tree_peak_counts_every_process_of_a_step_at_once(tmp_path):
    """A parent and two children each holding ~150 MB: the tree held ~450 MB at once, no process alone more than ~160."""
    hold = "import time; b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    parent = (
        "import subprocess, sys\n"
        f"kids = [subprocess.Popen([sys.executable, '-c', {hold!r}]) for _ in range(2)]\n"
        f"exec({hold!r})\n"
        "for k in kids: k.wait()\n"
    )
    import os
    import sys

    step = _bench_demo().timed([sys.executable, "-c", parent, "step"], tmp_path, dict(os.environ), sample_s=0.05)
    # each process holds ~160 MB, so no one process (ru_maxrss) reaches 0.43 GB: only the three at once do
    assert 0.43 <= step["tree_peak_rss_gb"] < 0.8


def test_a_failed_step_says_which_and_why(tmp_path):
    import os
    import sys

    import pytest

    with pytest.raises(SystemExit, match=r"demo step ingest failed \(3\):\nno such evidence"):
        _bench_demo().timed(
            [sys.executable, "-c", "import sys; sys.stderr.write('no such evidence'); sys.exit(3)", "ingest"],
            tmp_path,
            dict(os.environ),
        )


def test_the_verdict_judges_the_whole_tree_not_only_the_largest_process():
    bench = _bench_demo()
    run = {
        "tree_peak_rss_gb": 9.4,
        "steps": {"ingest": {"tree_peak_rss_gb": 6.4}, "reports": {"tree_peak_rss_gb": 9.4}},
    }
    assert bench.tree_verdict(run, 8.0) == (
        "peak RSS 9.4 GB (all processes of one step at once, reports) vs target ≤ 8 GB: MISSED"
    )
    assert bench.tree_verdict({"steps": {}}, 8.0).endswith("not measured")
