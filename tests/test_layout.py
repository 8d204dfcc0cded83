"""The layout's rules, checked on the imports of every shipped module.

* ``deid/`` is the library: it never imports ``pipelines``, Great Expectations or
  Prefect (one lazy exception: a key in a Prefect Secret block, read only when the
  config names one);
* shipped code never imports a dev-only package (training and test tools);
* ``_speedups`` is internal to detection: no shipped module outside ``deid.detection``
  imports it (its tests and the memory benchmark look inside).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.paths import REPO

SHIPPED = ("deid", "pipelines", "schemas", "expectations", "sample_data")
DEV_ONLY = (
    "sklearn",
    "scipy",
    "pycrfsuite",
    "hypothesis",
    "pytest",
    "datasets",
    "duckdb",
    "tools",
    "tests",
)
LAZY_PREFECT_SECRET = ("deid/anonymization/keys.py", "prefect.blocks.system")


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """``(module, at module level)`` for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, id(node) in top


def _modules(*folders: str) -> Iterator[tuple[str, Path]]:
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            yield str(path.relative_to(REPO)), path


def _root(module: str) -> str:
    return module.split(".")[0]


def test_deid_imports_neither_pipelines_nor_prefect_nor_great_expectations() -> None:
    found = [
        (name, module)
        for name, path in _modules("deid")
        for module, _ in _imports(path)
        if _root(module) in ("pipelines", "prefect", "great_expectations", "expectations")
        and (name, module) != LAZY_PREFECT_SECRET
    ]
    assert found == []


def test_shipped_code_imports_no_dev_only_package() -> None:
    found = [
        (name, module)
        for name, path in _modules(*SHIPPED)
        for module, _ in _imports(path)
        if _root(module) in DEV_ONLY
    ]
    assert found == []


def test_only_detection_opens_the_speedups_door() -> None:
    found = [
        (name, module)
        for name, path in _modules(*SHIPPED)
        for module, _ in _imports(path)
        if "._speedups" in module and not name.startswith("deid/detection/")
    ]
    assert found == []


def test_the_rules_see_the_imports_they_judge() -> None:
    """The scan finds what it must (a check that cannot fail is no check)."""
    keys = dict(_imports(REPO / "deid" / "anonymization" / "keys.py"))
    assert keys[LAZY_PREFECT_SECRET[1]] is False  # lazy, inside a function
    assert any("._speedups" in m for m, _ in _imports(REPO / "deid/detection/nlp.py"))
