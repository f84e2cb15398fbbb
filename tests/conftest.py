"""Test-wide settings and fixtures (helpers for ../shared are in shared_data.py)."""
from pathlib import Path

import pytest
import torch

from shared_data import shared_path

# Two cores are shared by everything in CI; more threads only add contention.
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def fixtures_dir() -> Path:
    return shared_path('fixtures')


@pytest.fixture
def tiny_runner():
    """``tiny_runner(work_dir, **options)`` -> a PysklRunner training TinyRecognizer (see tiny_runner.py)."""
    from pyskl.runner import PysklRunner
    from tiny_runner import tiny_runner_kwargs

    def make(work_dir, **options):
        return PysklRunner(**tiny_runner_kwargs(work_dir, **options))

    return make
