"""benchmarks/bench.py as a module for the tests that use its record generator and its
hand-written baseline (it is a script, not part of the package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def load_bench(name: str = "privacy_rules_benchmark") -> ModuleType:
    """A fresh copy of bench.py, registered in sys.modules as ``name`` (its dataclasses look
    their module up while it runs)."""
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
