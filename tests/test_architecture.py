"""The shape of the code: data flows one way (adapters -> service -> insights -> storage),
renderers are leaves, Slack stays in bot/slack, and no import cycle exists anywhere.

Read from the source with `ast`, every import counted, those inside functions too: an import
moved into a function to dodge a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("bot", "insights", "storage", "sample_data")
RENDERERS = {"bot.text", "bot.charts", "bot.export", "bot.slack.blocks"}
ADAPTERS = ("bot.cli", "bot.slack.listeners", "bot.scheduler")
# What an adapter may import below the service: result and request types, the catalogue,
# number formats; and, for the command line only, opening and migrating the store.
ADAPTER_MAY_IMPORT = {
    "insights.results", "insights.query", "insights.catalogue", "insights.alerts",
    "insights.digest", "insights.formatting", "storage.db",
}  # fmt: skip


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """Every module `path` imports (absolute names), at any depth of the file. `from a import b`
    is an import of the module a.b when there is one, of a otherwise."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules
            found |= submodules or {base}
    return found


def _modules() -> dict[str, Path]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return {_module(p): p for p in files if "migrations" not in p.parts}


MODULES = _modules()
# Everything each module imports, and the project's part of it.
RAW = {name: _imports(path, name, set(MODULES)) for name, path in MODULES.items()}
GRAPH = {name: {i for i in imports if i in MODULES and i != name} for name, imports in RAW.items()}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_import_cycle_anywhere():
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for imported in sorted(GRAPH[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(GRAPH):
        visit(name, [])


@pytest.mark.parametrize("lower", ["insights", "storage"])
def test_insights_and_storage_never_import_the_adapters(lower):
    offenders = {
        m: i for m, i in RAW.items() if _under(m, lower) and any(_under(x, "bot") for x in i)
    }
    assert offenders == {}


def test_storage_never_imports_insights():
    offenders = {
        m for m, i in RAW.items() if _under(m, "storage") and any(_under(x, "insights") for x in i)
    }
    assert offenders == set()


def test_slack_libraries_only_in_bot_slack():
    slack = ("slack_sdk", "slack_bolt")
    offenders = {
        m for m, imports in RAW.items()
        if not _under(m, "bot.slack") and any(_under(i, s) for i in imports for s in slack)
    }  # fmt: skip
    assert offenders == set()


def test_renderers_are_leaves():
    for renderer in RENDERERS:
        assert not (GRAPH[renderer] & (RENDERERS - {renderer})), renderer
        below = {i for i in GRAPH[renderer] if _under(i, "bot")}
        assert below <= {"bot.labels", "bot.slack.buttons"}, (renderer, below)


def test_adapters_call_the_service_not_the_engine_or_the_store():
    for module, imports in GRAPH.items():
        if not any(_under(module, adapter) for adapter in ADAPTERS):
            continue
        below = {i for i in imports if _under(i, "insights") or _under(i, "storage")}
        assert below <= ADAPTER_MAY_IMPORT, (module, below - ADAPTER_MAY_IMPORT)


def test_the_checks_see_the_whole_project():
    assert {"bot.service", "bot.cli.console", "insights.engine", "storage.schedules"} <= set(
        MODULES
    )
    assert "bot.service" in GRAPH["bot.cli.context"]
