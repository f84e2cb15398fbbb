"""The house's layering: data code does not load the model package, the engine does not load apis."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def loaded_after(imports: str, prefix: str) -> list[str]:
    code = f'import sys, {imports}; print(sorted(m for m in sys.modules if m.startswith({prefix!r})))'
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={'PYTHONPATH': str(REPO), 'PATH': ''})
    return eval(out.stdout)  # a printed list of module names


def test_data_modules_do_not_import_the_models():
    assert loaded_after('pyskl.datasets, pyskl.datasets.converters, pyskl.visualization, pyskl.skeleton',
                        'pyskl.models') == []


def test_the_engine_does_not_import_apis():
    assert loaded_after('pyskl.engine', 'pyskl.apis') == []
