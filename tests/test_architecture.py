"""The imports point one way, as the docs' architecture page draws them: each part of lstmlab imports only
the parts below it, lazy imports inside functions included, so a reader can learn the code bottom-up."""

import ast
from collections import defaultdict

from conftest import ROOT

# Bottom to top. A part may import any part of a lower tier, never one of its own tier or above.
TIERS = [
    {"errors"},
    {"plugins"},
    {"tasks", "cells"},  # the protocols and lstmlab's own tasks and cells, found by name or spec
    {"config", "layers"},  # configs name tasks and cells; the drop-in Keras layers wrap the cells
    {"core"},  # the engine: data, model, training
    {"provenance", "executors", "plots", "report"},
    {"experiment"},
    {"evaluate", "sweeps"},
    {"analysis"},  # fixed points of a finished run's models: loads runs; the studies may use it
    {"studies", "bench"},
    {"api"},
    {"cli"},
    {"__main__"},
]


def _part(module: str) -> str | None:
    """lstmlab.core.train -> core; lstmlab -> None (the package's lazy API names modules by string only)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "lstmlab" and len(parts) > 1 else None


def import_edges() -> dict[tuple[str, str], str]:
    """{(importer's part, imported part): a module where it happens}, over every import statement."""
    edges = {}
    for path in (ROOT / "lstmlab").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        source = _part(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names if node.module == "lstmlab")]
            else:
                continue
            for name in names:
                target = _part(name)
                if target and source and target != source:
                    edges.setdefault((source, target), module)
    return edges


def test_every_part_of_the_package_has_a_tier():
    parts = {path.stem if path.is_file() else path.name for path in (ROOT / "lstmlab").iterdir()
             if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()}
    assert parts == set().union(*TIERS)


def test_imports_point_down_only():
    tier = {part: i for i, parts in enumerate(TIERS) for part in parts}
    upward = defaultdict(list)
    for (source, target), module in import_edges().items():
        if tier[target] >= tier[source]:
            upward[module].append(target)
    assert not upward, f"imports that point up or sideways: {dict(upward)}"
