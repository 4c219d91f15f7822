"""The project's set-up files agree with each other and the layout is as documented."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _norm(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    name, _extras, spec = m.groups()
    name = CONDA_TO_PYPI.get(name.lower(), name.lower()).replace("_", "-")
    return name, spec.replace(" ", "")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_norm(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(
        _norm(d) for d in env["dependencies"] if isinstance(d, str) and not re.match(r"^(python|pip)(?![-\w])", d)
    )
    conda_python = [d for d in env["dependencies"] if isinstance(d, str) and re.match(r"^python(?![-\w])", d)]
    assert conda_python == ["python>=3.11"]
    assert project["requires-python"] == ">=3.11"
    assert conda == wanted, {
        "only in pyproject": sorted(set(wanted) - set(conda)),
        "only in environment.yml": sorted(set(conda) - set(wanted)),
        "different versions": sorted(k for k in set(wanted) & set(conda) if wanted[k] != conda[k]),
    }


def test_required_packages_are_declared():
    deps = {_norm(r)[0] for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert {"jupyterlab", "ipywidgets", "polars", "altair", "sqlalchemy", "papermill"} <= deps


def test_required_folders_exist_with_content():
    for folder in ("notebooks", "workbench", "workbench/queries", "workbench/widgets", "tests"):
        path = ROOT / folder
        assert path.is_dir(), folder
        assert any(p.name != ".gitkeep" for p in path.iterdir()), f"{folder} is empty"


def test_console_command_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"workbench": "workbench.cli:main"}


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text()[:3000]
    assert "make demo" in head and "make test" in head
    assert "conda env create -f environment.yml" in (ROOT / "README.md").read_text()


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
