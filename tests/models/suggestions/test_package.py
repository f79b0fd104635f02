"""The package keeps ``from models.suggestions import X`` working, and its modules never import it back."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import models.suggestions as package

MODULES = sorted(info.name for info in pkgutil.iter_modules(package.__path__))


def test_every_name_offered_is_there_and_comes_from_one_of_the_modules() -> None:
    assert len(package.__all__) == len(set(package.__all__))
    for name in package.__all__:
        value = getattr(package, name)
        homes = [
            module
            for module in MODULES
            if getattr(importlib.import_module(f"models.suggestions.{module}"), name, None) is value
        ]
        assert homes, name


def test_no_module_of_the_package_imports_the_package_itself_so_none_can_form_a_cycle() -> None:
    for module in MODULES:
        tree = ast.parse(Path(package.__path__[0], f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "models.suggestions":
                # Only a sibling module may be named this way ("from models.suggestions import similarity").
                assert all(alias.name in MODULES for alias in node.names), (module, ast.unparse(node))
            if isinstance(node, ast.Import):
                assert all(alias.name != "models.suggestions" for alias in node.names), module
