"""The import rule: dependencies run one way.

The graph side (``kgrec.graph``, ``kgrec.ingest``) never imports torch, and the
learning side (``kgrec.learn``) never imports neo4j; the graph side does not
reach up into ``kgrec.features``. Checked twice: every ``import`` statement in
the source (lazy ones inside functions included), and what importing every
module of a side actually loads, in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kgrec

ROOT = Path(kgrec.__file__).parent
RULES = {
    "graph": ("torch", "torch_geometric", "kgrec.learn", "kgrec.recommend", "kgrec.features"),
    "ingest": ("torch", "torch_geometric", "kgrec.learn", "kgrec.recommend", "kgrec.features"),
    "learn": ("neo4j", "kgrec.graph", "kgrec.ingest", "kgrec.recommend", "kgrec.features"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement in ``path``, relative imports resolved."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    return _imports_of(path.read_text(encoding="utf-8"), package)


def _imports_of(text: str, package: str) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            out.append((node.lineno, ".".join(p for p in (base, node.module or "") if p)))
    return out


def _forbidden(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


@pytest.mark.parametrize("side", sorted(RULES))
def test_no_module_of_a_side_names_a_forbidden_import(side: str) -> None:
    files = sorted((ROOT / side).glob("*.py"))
    assert files, f"kgrec/{side} has no modules"
    bad = [
        f"{f.relative_to(ROOT.parent)}:{line}: imports {module}"
        for f in files
        for line, module in _imports(f)
        if _forbidden(module, RULES[side])
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(("sides", "banned"), [(("graph", "ingest"), "torch"), (("learn",), "neo4j")])
def test_importing_every_module_of_a_side_loads_no_forbidden_library(sides: tuple[str, ...], banned: str) -> None:
    modules = [f"kgrec.{side}.{f.stem}" for side in sides for f in sorted((ROOT / side).glob("*.py"))]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m.removesuffix('.__init__'))\n"
        f"print(','.join(sorted(m for m in sys.modules if m == {banned!r} or m.startswith({banned + '.'!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"importing kgrec.{'/'.join(sides)} loaded {done.stdout.strip()}"


def test_the_rule_checker_sees_lazy_and_relative_imports() -> None:
    text = "import numpy\ndef f():\n    import torch\n    from ..learn import bundle\n    from . import names\n"
    found = [m for _, m in _imports_of(text, "kgrec.graph")]
    assert found == ["numpy", "torch", "kgrec.learn", "kgrec.graph"]
    assert _forbidden("torch.nn", RULES["graph"]) and not _forbidden("torchvision", RULES["graph"])
