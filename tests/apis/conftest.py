"""Fixtures of tests/apis: a PysklRunner on a tiny model (see apis_tiny.py)."""
import pytest

from apis_tiny import tiny_runner_kwargs
from pyskl.apis import PysklRunner


@pytest.fixture
def tiny_runner():
    """``tiny_runner(work_dir, **options)`` -> a PysklRunner training TinyRecognizer."""

    def make(work_dir, **options):
        return PysklRunner(**tiny_runner_kwargs(work_dir, **options))

    return make
