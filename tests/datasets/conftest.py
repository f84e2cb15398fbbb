"""Fixtures shared by tests/datasets."""
import logging

import pytest
from mmengine.logging import MMLogger


@pytest.fixture
def log_lines():
    """Messages logged through mmengine's current logger during the test."""
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Keep()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)
