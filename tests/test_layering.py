"""The house's layering: no import cycles among pyskl's modules; data code does not load the model
package; the engine loads neither apis nor runner, and the runner does not load apis."""
import ast
import re
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def loaded_after(imports: str, prefix: str) -> list[str]:
    code = f'import sys, {imports}; print(sorted(m for m in sys.modules if m.startswith({prefix!r})))'
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={'PYTHONPATH': str(REPO), 'PATH': ''})
    return eval(out.stdout)  # a printed list of module names


def test_data_modules_do_not_import_the_models():
    assert loaded_after('pyskl.datasets, pyskl.datasets.converters, pyskl.visualization, pyskl.skeleton',
                        'pyskl.models') == []


def test_the_engine_does_not_import_apis_or_the_runner():
    assert loaded_after('pyskl.engine', 'pyskl.apis') == []
    assert loaded_after('pyskl.engine', 'pyskl.runner') == []


def test_the_runner_does_not_import_apis():
    # apis (using a trained model) may use the runner's config loading; never the other way round
    assert loaded_after('pyskl.runner', 'pyskl.apis') == []


# ---------------------------------------------------------------------------------------- import cycles
def package_modules(root: Path, package: str) -> dict[str, Path]:
    """The dotted name of every module of ``package`` (a folder under ``root``) -> its file."""
    modules = {}
    for path in sorted((root / package).rglob('*.py')):
        parts = path.relative_to(root).with_suffix('').parts
        name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
        modules[name] = path
    return modules


def _known(name: str, modules: dict) -> str | None:
    """``name``, or its longest prefix that is a module of the package (``pkg.mod.func`` -> ``pkg.mod``)."""
    while name and name not in modules:
        name = name.rpartition('.')[0]
    return name or None


def imported_modules(module: str, path: Path, modules: dict) -> set[str]:
    """The modules of the package that ``module`` imports anywhere in its file (in functions too),
    relative imports resolved. ``from pkg import name`` is an import of ``pkg.name`` where that is a
    module, else of ``pkg`` (its ``__init__``)."""
    is_package = path.name == '__init__.py'
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(_known(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split('.') if is_package else module.split('.')[:-1]
                base = base[:len(base) - (node.level - 1)]
                base = '.'.join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                found.add(f'{base}.{alias.name}' if f'{base}.{alias.name}' in modules else _known(base, modules))
    found.discard(None)
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    modules = package_modules(root, package)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def _shortest_cycle(graph: dict, start: str, allowed: set) -> list[str]:
    """The shortest chain ``start -> ... -> start`` through ``allowed`` (breadth first)."""
    parent = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & allowed):
            if nxt == start:
                chain = [node]
                while parent[chain[-1]] is not None:
                    chain.append(parent[chain[-1]])
                return chain[::-1] + [start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    raise AssertionError(f'{start} is on no cycle')  # pragma: no cover - callers pass a cyclic component


def _cyclic_components(graph: dict) -> list[set[str]]:
    """The strongly connected components with a cycle (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, components, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        components.append(component)
    return components


def import_cycles(root: Path, package: str) -> list[str]:
    """One readable chain (``a -> b -> a``) per group of ``package``'s modules that import each other."""
    graph = import_graph(root, package)
    return sorted(' -> '.join(_shortest_cycle(graph, min(component), component))
                  for component in _cyclic_components(graph))


def assert_no_import_cycles(root: Path, package: str) -> None:
    cycles = import_cycles(root, package)
    assert not cycles, f'import cycles among the modules of {package}:\n  ' + '\n  '.join(cycles)


def test_no_import_cycles_in_pyskl():
    assert_no_import_cycles(REPO, 'pyskl')


def _write(root: Path, files: dict) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_cycle_check_reports_a_planted_cycle(tmp_path):
    _write(tmp_path, {
        'planted/__init__.py': '',
        'planted/io/__init__.py': 'from .reader import read\n',
        # the cycle closes through an import inside a function, relative and two levels up
        'planted/io/reader.py': 'def read():\n    from ..store import keep\n    return keep\n',
        'planted/store.py': 'import os\nfrom planted.io import read\n\n\ndef keep():\n    return os.sep\n',
        'planted/alone.py': 'from planted import store\n',
    })
    assert import_graph(tmp_path, 'planted') == {
        'planted': set(), 'planted.alone': {'planted.store'}, 'planted.io': {'planted.io.reader'},
        'planted.io.reader': {'planted.store'}, 'planted.store': {'planted.io'}}
    chain = 'planted.io -> planted.io.reader -> planted.store -> planted.io'
    assert import_cycles(tmp_path, 'planted') == [chain]
    with pytest.raises(AssertionError, match=re.escape(chain)):
        assert_no_import_cycles(tmp_path, 'planted')


def test_the_cycle_check_passes_an_acyclic_package_and_finds_a_self_import(tmp_path):
    _write(tmp_path, {'tidy/__init__.py': 'from .a import f\n', 'tidy/a.py': 'from .b import g as f\n',
                      'tidy/b.py': 'import json\n\n\ndef g():\n    return json\n'})
    assert import_cycles(tmp_path, 'tidy') == []
    assert_no_import_cycles(tmp_path, 'tidy')
    _write(tmp_path, {'tidy/b.py': 'def g():\n    from tidy import b\n    return b\n'})
    assert import_cycles(tmp_path, 'tidy') == ['tidy.b -> tidy.b']
