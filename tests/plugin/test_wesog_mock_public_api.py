"""The public API of `wesog_mock`: explicit, sorted, importable, and lazy."""

from __future__ import annotations

import importlib

import pytest

import wesog_mock

PUBLIC_MODULES = [
    "wesog_mock", "wesog_mock.testing", "wesog_mock.domain.config", "wesog_mock.controls.faults",
    "wesog_mock.controls.journal", "wesog_mock.controls.controller", "wesog_mock.http.app",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_unique_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    names = module.__all__
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions, each sorted.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert len(set(names)) == len(names)
    for exported in names:
        assert getattr(module, exported) is not None


def test_lazy_names_are_the_real_objects() -> None:
    from wesog_mock.domain.config import MockConfig
    from wesog_mock.http.app import create_app

    assert wesog_mock.create_app is create_app
    assert wesog_mock.MockConfig is MockConfig
    assert set(wesog_mock.__all__) <= set(dir(wesog_mock))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = wesog_mock.nope
