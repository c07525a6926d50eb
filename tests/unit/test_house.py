"""The house rules, read from the source with ``ast`` (nothing is imported or started).

- No import cycle between two modules, or between two packages (or top-level modules), of
  ``broker/`` or ``dashboard/``: imports inside functions and ``TYPE_CHECKING`` blocks count,
  relative imports are resolved.
- No module over 400 lines.
- The broker's imports run one way: agents → outbound → identity (routes → services within each)
  → lifecycle → providers → context → project → store and the foundation modules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ("broker", "dashboard")
MAX_LINES = 400

# The broker's layers, lowest first: a module may import its own layer or a lower one. identity,
# outbound and agents hold routes and services; a service never imports a route module.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("store", ("broker.store",)),
    (
        "foundation",
        (
            "broker.errors",
            "broker.crypto",
            "broker.config",
            "broker.area_settings",
            "broker.readiness",
            "broker.logs",
            "broker.edge",
            "broker.strict",
        ),
    ),
    ("project", ("broker.project",)),
    ("context", ("broker.context",)),
    ("providers", ("broker.providers",)),
    ("lifecycle", ("broker.lifecycle",)),
    ("identity", ("broker.identity",)),
    ("outbound", ("broker.outbound",)),
    ("agents", ("broker.agents",)),
    (
        "shell",
        (
            "broker",
            "broker.app",
            "broker.cli",
            "broker.seed",
            "broker.bulk_store",
            "broker.key_rotation",
            "broker.mcp_server",
        ),
    ),
)
ROUTED = ("identity", "outbound", "agents")
# The demo provider is a program of its own: it imports nothing of the broker around it.
STANDALONE = ("broker.demo_provider",)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


def modules() -> dict[str, Module]:
    """Every module of the trees, by dotted name (a package by its ``__init__``)."""
    found: dict[str, Module] = {}
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def imported_names(module: Module) -> Iterator[str]:
    """Dotted names this module imports, anywhere in it, relative imports made absolute."""
    tree = ast.parse(module.path.read_text(), filename=str(module.path))
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            # ``from pkg import mod`` names the module; ``from mod import name`` the module.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of the trees it imports (the longest known prefix of each name)."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in known}
    for module in known.values():
        for name in imported_names(module):
            target = resolve(name)
            if target is not None and target != module.name:
                graph[module.name].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one node: each holds at least one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycle_through(start: str, graph: dict[str, set[str]], within: set[str]) -> list[str]:
    """A shortest path from ``start`` back to itself inside one component, for the message."""
    paths = {target: [start, target] for target in graph[start] if target in within}
    frontier = sorted(paths)
    while start not in paths:
        step = []
        for node in frontier:
            for target in sorted(graph[node] & within):
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    step.append(target)
        frontier = step
    return paths[start]


def unit_of(name: str, depth: int) -> str:
    """The package (or top-level module) ``name`` belongs to, ``depth`` components deep."""
    return ".".join(name.split(".")[:depth])


def package_graph(graph: dict[str, set[str]], depth: int) -> dict[str, set[str]]:
    """The module graph folded onto packages; a package and its own subpackages never clash."""
    folded: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        a = unit_of(source, depth)
        for target in targets:
            b = unit_of(target, depth)
            if not (a == b or b.startswith(a + ".") or a.startswith(b + ".")):
                folded[a].add(b)
        folded.setdefault(a, set())
    return dict(folded)


def cycles(graph: dict[str, set[str]], tree: str) -> list[str]:
    """Each cycle among ``tree``'s nodes, written ``a → b → a``."""
    found = []
    for component in strongly_connected(graph):
        if component[0].split(".")[0] == tree:
            found.append(" → ".join(cycle_through(component[0], graph, set(component))))
    return found


def all_cycles(tree: str) -> list[str]:
    """Module cycles, then package cycles at every depth of the tree."""
    graph = import_graph()
    depth = max(len(name.split(".")) for name in graph)
    found = [f"modules: {c}" for c in cycles(graph, tree)]
    for level in range(2, depth):
        for cycle in cycles(package_graph(graph, level), tree):
            if f"packages: {cycle}" not in found and f"modules: {cycle}" not in found:
                found.append(f"packages: {cycle}")
    return found


@pytest.mark.parametrize("tree", TREES)
def test_no_import_cycle_between_modules_or_packages(tree: str) -> None:
    found = all_cycles(tree)
    assert not found, f"import cycles in {tree}/:\n" + "\n".join(found)


def test_the_cycle_check_sees_function_level_type_checking_and_relative_imports(
    tmp_path: Path,
) -> None:
    """The walker itself: each hidden import form is an edge (so a cycle through it is caught)."""
    source = tmp_path / "a.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.b import B\n"
        "def f():\n    from . import c\n    from ..top import d\n"
    )
    found = set(imported_names(Module("pkg.sub.a", source, is_package=False)))
    assert {"pkg.b.B", "pkg.sub.c", "pkg.top.d"} <= found
    graph = {"x.a": {"x.b"}, "x.b": {"x.c"}, "x.c": {"x.a"}, "y.d": set()}
    assert cycles(graph, "x") == ["x.a → x.b → x.c → x.a"]
    assert cycles(package_graph({"x.p.a": {"x.q.b"}, "x.q.b": {"x.p.c"}}, 2), "x") == [
        "x.p → x.q → x.p"
    ]


def oversized(paths: Iterable[Path]) -> list[str]:
    """``path: N lines`` for every file over the limit."""
    out = []
    for path in paths:
        count = len(path.read_text().splitlines())
        if count > MAX_LINES:
            out.append(f"{path.relative_to(ROOT)}: {count} lines")
    return out


@pytest.mark.parametrize("tree", TREES)
def test_no_module_over_400_lines(tree: str) -> None:
    found = oversized(m.path for m in modules().values() if m.name.split(".")[0] == tree)
    assert not found, f"modules over {MAX_LINES} lines:\n" + "\n".join(found)


def within(name: str, package: str) -> bool:
    """``name`` is ``package`` or inside it."""
    return name == package or name.startswith(package + ".")


def layer_of(name: str) -> str:
    """The layer ``name`` belongs to: the longest matching package prefix wins."""
    best, layer = "", ""
    for candidate_layer, prefixes in LAYERS:
        for prefix in prefixes:
            if within(name, prefix) and len(prefix) > len(best):
                best, layer = prefix, candidate_layer
    return layer


def is_route(name: str) -> bool:
    """A module that declares HTTP routes (or the raw ASGI fetch route)."""
    leaf = name.rpartition(".")[2]
    return leaf.endswith("_routes") or leaf == "fast_fetch"


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every broker import that runs upward, or from a service into a route module."""
    rank = {layer: i for i, (layer, _) in enumerate(LAYERS)}
    found = []
    for source, targets in sorted(graph.items()):
        if source.split(".")[0] != "broker":
            continue
        for target in sorted(targets):
            if target.split(".")[0] != "broker":
                continue
            home = [p for p in STANDALONE if within(source, p)]
            if home and not within(target, home[0]):
                found.append(f"{source} → {target} (the demo provider stands alone)")
            if home or any(within(target, p) for p in STANDALONE):
                continue
            a, b = layer_of(source), layer_of(target)
            if rank[b] > rank[a]:
                found.append(f"{source} ({a}) → {target} ({b})")
            elif a in ROUTED and is_route(target) and not is_route(source):
                found.append(f"{source} (service) → {target} (route)")
    return found


def test_every_broker_module_has_a_layer() -> None:
    unplaced = [
        name
        for name in import_graph()
        if name.startswith("broker")
        and not layer_of(name)
        and not any(within(name, p) for p in STANDALONE)
    ]
    assert not unplaced, f"modules in no layer of {__name__}.LAYERS: {unplaced}"


def test_broker_imports_run_one_way() -> None:
    found = layer_violations(import_graph())
    assert not found, "imports against the layers:\n" + "\n".join(found)


def queries_in(module: Module) -> list[str]:
    """What in a module runs queries itself: a SQLAlchemy import, a ``….db.session()`` opened."""
    found = [n for n in imported_names(module) if n.split(".")[0] == "sqlalchemy"]
    for node in ast.walk(ast.parse(module.path.read_text())):
        func = node.func if isinstance(node, ast.Call) else None
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "session"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "db"
        ):
            found.append(f"db.session() at line {func.lineno}")
    return found


def test_route_handlers_run_no_queries() -> None:
    """The route convention: a handler takes the request's ``DbSession`` (or hands the Broker
    to a service running transactions of its own); the services own the queries."""
    found = [
        f"{m.name}: {', '.join(queries)}"
        for m in modules().values()
        if within(m.name, "broker") and layer_of(m.name) in ROUTED and is_route(m.name)
        for queries in [queries_in(m)]
        if queries
    ]
    assert not found, "route modules running queries:\n" + "\n".join(found)


def test_the_layer_check_catches_an_upward_import() -> None:
    graph = {
        "broker.providers.catalog": {"broker.outbound.apps"},
        "broker.store.db": {"broker.context"},
        "broker.outbound.tokens": {"broker.outbound.token_routes"},
        "broker.identity.users": {"broker.outbound.apps"},
        "broker.demo_provider.app": {"broker.config"},
        "broker.outbound.token_routes": {"broker.outbound.tokens", "broker.lifecycle.vault"},
    }
    assert layer_violations(graph) == [
        "broker.demo_provider.app → broker.config (the demo provider stands alone)",
        "broker.identity.users (identity) → broker.outbound.apps (outbound)",
        "broker.outbound.tokens (service) → broker.outbound.token_routes (route)",
        "broker.providers.catalog (providers) → broker.outbound.apps (outbound)",
        "broker.store.db (store) → broker.context (context)",
    ]
