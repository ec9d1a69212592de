"""The architecture, checked: no Streamlit below al_core (walking the import graph), learning stays pure,
modules stay small, the root holds only the orchestration, and every module has its mirrored tests.

The import graph is read from the source with ``ast`` (imports inside functions included), so a module that
imports Streamlit through another al_core module is found with the chain that leads there; every third-party
package al_core imports is then followed through its installed requirements, so a dependency that brings
Streamlit along is found too, without importing anything.
"""

from __future__ import annotations

import ast
import functools
import os
import sys
import textwrap
from collections import deque
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import al_core

AL_CORE = Path(al_core.__file__).parent
REPO = AL_CORE.parent
MAX_LINES = 400
ROOT_MODULES = {  # the map, the entry points and the orchestrations that combine several packages
    "__init__",
    "__main__",
    "iteration",
    "export",  # a version's predictions for every task: Label Studio + the store + a model
    "pruning",  # old versions' predictions deleted after a run: Label Studio + the store
    "progress",
    "errors",
    "settings",
    "launch",
    "validation",
    "context",
    "earlier",  # what a project's earlier versions say to a new run: the store's records, their pool predictions
    "quality",  # likely label errors: Label Studio's labels + cross-validated learning + the store's reviews
}
NOT_LEARNING = ("al_core.store", "al_core.labelstudio", "al_core.reports", "al_core.automation")

# Modules whose tests are elsewhere than tests/unit/<pkg>/test_<mod>.py, each with the reason and the test file.
INTEGRATION_ONLY = {
    "al_core.labelstudio.gateway": (
        "every method is a request to Label Studio; its pure parts have unit tests (gateway_payloads, gateway_errors)",
        "tests/integration/test_gateway.py",
    ),
    "al_core.labelstudio.local_server": (
        "it starts a real Label Studio: the session fixture of every integration test runs it",
        "tests/conftest.py",
    ),
    "al_core.automation.receiver": (
        "a webhook server that Label Studio calls, tested end to end with the real server",
        "tests/integration/test_webhooks.py",
    ),
    "al_core.automation.registration": (
        "registers webhooks in Label Studio, so it is tested there",
        "tests/integration/test_automation.py",
    ),
    "al_core.__main__": ("the command line, run as a process against the real server", "tests/integration/test_cli.py"),
}
# Unit tests that come with work on another branch; strict, so the merge that brings them fails this marker.
MIGRATIONS = "al_core.store.migrations"
PENDING_UNIT_TESTS: dict[str, str] = {}  # module -> why its unit tests are still to come
# Learning modules allowed to import what learning must not (none: keep it so).
IMPURE_TODAY: dict[str, str] = {}


# --- the walker --------------------------------------------------------------------------------------------------


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted name -> file of every module of the package in ``package_dir`` (a package is named by its folder)."""
    root = package_dir.parent
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name ``path`` imports, anywhere in the file; ``from a import b`` gives ``a`` and ``a.b``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the names it imports: the package's own modules (with the packages they sit in) and others."""
    modules = module_files(package_dir)
    graph = {}
    for module, path in modules.items():
        edges = set()
        for name in imported_names(path, module):
            parts = name.split(".")
            own = [".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in modules]
            edges.update(own or [name])  # importing a.b.c runs a, a.b and a.b.c; an attribute is not a module
        graph[module] = edges - {module}
    return graph


def forbidden_chains(graph: dict[str, set[str]], forbidden: Callable[[str], bool]) -> dict[str, list[str]]:
    """For every module that imports a forbidden name directly or through other modules of the graph, the
    shortest chain: ``[module, ..., module that imports it, forbidden name]``."""
    chains = {}
    for start in graph:
        came_from: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            hit = sorted(name for name in graph[current] if forbidden(name))
            if hit:
                chain = [hit[0], current]
                while (previous := came_from[chain[-1]]) is not None:
                    chain.append(previous)
                chains[start] = chain[::-1]
                break
            for name in sorted(graph[current]):
                if name in graph and name not in came_from:
                    came_from[name] = current
                    queue.append(name)
    return chains


@functools.cache
def al_core_graph() -> dict[str, set[str]]:
    return import_graph(AL_CORE)


def is_streamlit(name: str) -> bool:
    return name.split(".")[0] == "streamlit"


def third_party(graph: dict[str, set[str]]) -> set[str]:
    """Top-level names of every import that is neither the package's own nor the standard library."""
    tops = {name.split(".")[0] for edges in graph.values() for name in edges if name not in graph}
    return {top for top in tops if top and top not in sys.stdlib_module_names and top not in graph}


@functools.cache
def _requirements(distribution: str) -> tuple[str, ...]:
    """The distributions ``distribution`` requires when installed without extras (normalized names)."""
    try:
        lines = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return ()
    requirements = [Requirement(line) for line in lines]
    return tuple(
        canonicalize_name(r.name) for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})
    )


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def dependency_chain(top_level: str, target: str) -> list[str] | None:
    """``[top_level, distribution, ..., target]`` when the installed distribution providing the importable name
    ``top_level`` requires ``target`` (directly or through others), else None (also when it is not installed)."""
    came_from: dict[str, str | None] = {canonicalize_name(d): None for d in _distributions().get(top_level, [])}
    queue = deque(came_from)
    while queue:
        current = queue.popleft()
        if current == target:
            chain = [current]
            while (parent := came_from[chain[-1]]) is not None:
                chain.append(parent)
            return [top_level, *chain[::-1]]
        for name in _requirements(current):
            if name not in came_from:
                came_from[name] = current
                queue.append(name)
    return None


# --- the walker can fail -----------------------------------------------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root / next(iter(files)).split("/")[0]


def test_the_walker_finds_streamlit_through_other_modules(tmp_path):
    package = write_package(
        tmp_path,
        {
            "fake/__init__.py": "",
            "fake/a.py": "from fake.sub.b import helper\n",
            "fake/sub/__init__.py": "",
            "fake/sub/b.py": "from . import c\nhelper = 1\n",
            "fake/sub/c.py": "def later():\n    import streamlit.runtime as rt\n    return rt\n",
            "fake/d.py": "import json\nfrom .sub import b\n",
            "fake/e.py": "from .. import fake\nimport numpy.linalg\n",
        },
    )
    graph = import_graph(package)
    assert graph["fake.a"] == {"fake", "fake.sub", "fake.sub.b"}  # helper is an attribute, not a module
    assert graph["fake.sub.b"] == {"fake", "fake.sub", "fake.sub.c"}
    assert graph["fake.sub.c"] == {"streamlit.runtime"}
    assert forbidden_chains(graph, is_streamlit) == {
        "fake.a": ["fake.a", "fake.sub.b", "fake.sub.c", "streamlit.runtime"],
        "fake.sub.b": ["fake.sub.b", "fake.sub.c", "streamlit.runtime"],
        "fake.sub.c": ["fake.sub.c", "streamlit.runtime"],
        "fake.d": ["fake.d", "fake.sub.b", "fake.sub.c", "streamlit.runtime"],
    }
    assert third_party(graph) == {"streamlit", "numpy"}


def test_the_walker_passes_a_package_without_streamlit(tmp_path):
    package = write_package(tmp_path, {"clean/__init__.py": "from clean import m\n", "clean/m.py": "import os\n"})
    assert forbidden_chains(import_graph(package), is_streamlit) == {}


# --- al_core -----------------------------------------------------------------------------------------------------


def test_no_al_core_module_imports_streamlit_directly_or_through_another():
    chains = forbidden_chains(al_core_graph(), is_streamlit)
    assert chains == {}, "\n".join(" -> ".join(chain) for chain in chains.values())


def test_no_package_al_core_imports_depends_on_streamlit():
    imported = third_party(al_core_graph())
    assert "streamlit" not in imported
    chains = {top: chain for top in sorted(imported) if (chain := dependency_chain(top, "streamlit"))}
    assert chains == {}, "\n".join(" -> ".join(chain) for chain in chains.values())


def test_the_dependency_walk_finds_streamlit_behind_a_package():
    assert dependency_chain("streamlit", "altair") == ["streamlit", "streamlit", "altair"]  # module, its package, ...
    assert dependency_chain("not_installed_anywhere", "streamlit") is None


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(
            name, marks=[pytest.mark.xfail(strict=True, reason=IMPURE_TODAY[name])] if name in IMPURE_TODAY else []
        )
        for name in sorted(al_core_graph())
        if name.startswith("al_core.learning")
    ],
)
def test_learning_is_pure(module):
    chains = forbidden_chains(al_core_graph(), lambda name: name.startswith(NOT_LEARNING))
    assert module not in chains, f"learning must not import {', '.join(NOT_LEARNING)}: " + " -> ".join(chains[module])


def test_no_module_is_over_400_lines():
    lengths = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for path in AL_CORE.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert {path: n for path, n in lengths.items() if n > MAX_LINES} == {}


def test_the_root_of_al_core_holds_only_the_orchestration_and_the_map():
    root = {path.stem for path in AL_CORE.glob("*.py")}
    assert root - ROOT_MODULES == set(), "move these into the package of their concept"
    packages = {path.parent.name for path in AL_CORE.glob("*/__init__.py")}
    assert packages == {"labelstudio", "learning", "store", "reports", "lab", "automation", "compute"}


def mirrored_test(module: str) -> Path:
    """``al_core.<pkg>.<mod>`` -> ``tests/unit/<pkg>/test_<mod>.py``; a root module -> ``tests/unit/test_<mod>.py``."""
    *packages, name = module.split(".")[1:]
    return REPO.joinpath("tests", "unit", *packages, f"test_{name}.py")


def _mirror_params() -> list:
    modules = [
        m
        for m, path in module_files(AL_CORE).items()
        if path.name != "__init__.py"
        and not m.startswith(MIGRATIONS)  # Alembic's scripts: tests/unit/store/test_schema.py
    ]
    return [
        pytest.param(m, marks=[pytest.mark.xfail(strict=True, reason=PENDING_UNIT_TESTS[m])])
        if m in PENDING_UNIT_TESTS
        else m
        for m in sorted(modules)
        if m not in INTEGRATION_ONLY
    ]


@pytest.mark.parametrize("module", _mirror_params())
def test_every_module_has_its_mirrored_unit_tests(module):
    expected = mirrored_test(module)
    assert expected.is_file(), f"{module} has no {expected.relative_to(REPO)}"


def test_the_integration_only_modules_exist_and_name_their_tests():
    modules = module_files(AL_CORE)
    for module, (reason, test_file) in INTEGRATION_ONLY.items():
        assert module in modules, f"{module} is gone: drop it from INTEGRATION_ONLY"
        assert reason and (REPO / test_file).is_file(), f"{module}: {test_file} is missing"
        assert not mirrored_test(module).is_file(), f"{module} has unit tests now: drop it from INTEGRATION_ONLY"


CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")  # git's; a lone "=======" is also Markdown's heading underline
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yaml", ".yml", ".json", ".sh", ".css"}
SKIPPED_DIRS = {".git", ".venv", ".venv-labelstudio", ".data", "node_modules", "__pycache__", "results"}


def _project_text_files(root: Path):
    """The project's text files under ``root``, never entering the skipped directories (a virtual environment
    holds tens of thousands of files)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".venv"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix in TEXT_SUFFIXES or name in {"Makefile", "run"}:
                yield path


def test_no_file_keeps_a_merge_conflict_marker():
    """A merge once committed README.md with both sides of a conflict; every text file of the project is checked."""
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in _project_text_files(REPO)
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if line.startswith(CONFLICT_MARKERS)
    ]
    assert not found, f"merge conflict markers left in: {found}"


def test_the_marker_check_finds_a_conflict(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> other\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.py").write_text("<<<<<<< HEAD\n")
    files = list(_project_text_files(tmp_path))
    assert [p.name for p in files] == ["notes.md"]
    assert [line for line in files[0].read_text().splitlines() if line.startswith(CONFLICT_MARKERS)] == [
        "<<<<<<< HEAD",
        ">>>>>>> other",
    ]
