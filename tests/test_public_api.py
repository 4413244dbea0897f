"""The packages re-export their public API: every name in ``__all__`` resolves to the object its
home module defines, and an unknown name is an AttributeError."""

import importlib

import pytest

import synthetic
import theory


@pytest.mark.parametrize("package", [theory, synthetic], ids=["theory", "synthetic"])
def test_every_exported_name_is_its_home_modules_object(package):
    for name in package.__all__:
        home = importlib.import_module(f"{package.__name__}.{package._EXPORTS[name]}")
        assert getattr(package, name) is getattr(home, name), name
        assert name in dir(package)


@pytest.mark.parametrize("package", [theory, synthetic], ids=["theory", "synthetic"])
def test_unknown_name_is_an_attribute_error(package):
    with pytest.raises(AttributeError, match="no_such_name"):
        package.no_such_name  # noqa: B018  (the attribute access is the test)


def test_a_theorem_runs_through_the_package_names():
    import numpy as np

    L = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    cert = theory.check_t1(L, np.array([1.0, 2.0, 3.0]))
    assert cert.verdict is theory.Verdict.HOLDS and cert.dim == 1


@pytest.mark.parametrize("package", [theory, synthetic], ids=["theory", "synthetic"])
def test_no_exported_name_is_also_a_submodule(package):
    """A submodule import sets the package attribute of its name, which would shadow an export."""
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert not submodules & set(package.__all__)
