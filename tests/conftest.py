"""Shared test helpers: where ``../shared`` (reference fixtures and datasets) lives.

Tests that need it skip with a clear message where it is absent (a user's fresh
clone has none).
"""
import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('PYSKL_SHARED', REPO.parent / 'shared'))

# Two cores are shared by everything in CI; more threads only add contention.
torch.set_num_threads(min(2, torch.get_num_threads()))


def shared_path(*parts) -> Path:
    """A path under ../shared, or skip the test if it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f'{path} is absent (reference data lives in ../shared beside the repository)')
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    return shared_path('fixtures')
