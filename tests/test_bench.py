"""The benchmarks are never run by CI (they take minutes at a million people), but they
build on mcbridge's own functions: a function renamed or removed must fail here, not in
the next evening's measurement."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(module.name for module in pkgutil.iter_modules(bench.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_imports_what_it_uses(name):
    importlib.import_module(f"bench.{name}")
