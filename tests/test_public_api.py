"""``__all__`` is declared everywhere and, in packages, matches the public namespace."""

import importlib
import pkgutil
import types

import pytest

import workbench


def _modules():
    return sorted(["workbench"] + [i.name for i in pkgutil.walk_packages(workbench.__path__, "workbench.")])


PACKAGES = [n for n in _modules() if hasattr(importlib.import_module(n), "__path__")]


@pytest.mark.parametrize("name", _modules())
def test_all_is_declared_and_names_exist(name):
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} declares no __all__"
    ghosts = [k for k in mod.__all__ if not hasattr(mod, k)]
    assert not ghosts, f"{name}: __all__ names that do not exist: {ghosts}"


@pytest.mark.parametrize("name", PACKAGES)
def test_package_namespace_matches_all(name):
    mod = importlib.import_module(name)
    for key in mod.__all__:  # a package that imports its names when first used (``__getattr__``) binds them now
        getattr(mod, key, None)
    public = {k for k, v in vars(mod).items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}
    public.discard("annotations")
    assert public == set(mod.__all__), {
        "public but not in __all__": sorted(public - set(mod.__all__)),
        "in __all__ but missing": sorted(set(mod.__all__) - public),
    }
