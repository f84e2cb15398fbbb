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
