"""Where ``../shared`` (reference fixtures and datasets) lives; tests that need it skip without it.

A user's fresh clone has no ``../shared``; ``PYSKL_SHARED`` points elsewhere.
"""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('PYSKL_SHARED', REPO.parent / 'shared'))


def shared_path(*parts) -> Path:
    """A path under ../shared, or skip the test if it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f'{path} is absent (reference data lives in ../shared beside the repository)')
    return path
