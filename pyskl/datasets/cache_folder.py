"""The packed annotation cache on disk: a folder of ``.npy`` files plus ``meta.json``.

A cache folder only ever appears complete: it is written under a temporary name
beside it and renamed into place (:func:`pyskl.utils.fileio.atomic_path`), so a
reader never maps a half-written cache. ``meta.json`` records what the cache was
built from (``meta['source']``).
"""
import json
import logging
import os
from typing import Callable, Optional

from mmengine.logging import print_log

from pyskl.utils.fileio import atomic_path


def read_cache_meta(folder: str) -> Optional[dict]:
    """The cache's ``meta.json``; None where there is no complete cache."""
    try:
        with open(os.path.join(folder, 'meta.json'), encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_cache(folder: str, fill: Callable[[str], None], meta: dict) -> bool:
    """Write the cache atomically: ``fill(tmp)`` writes the arrays into a temporary folder,
    which gets ``meta.json`` and replaces ``folder``. False where the folder cannot be
    written (the dataset then keeps the store in memory)."""
    try:
        with atomic_path(folder, folder=True) as tmp:
            fill(os.fspath(tmp))
            with open(tmp / 'meta.json', 'w', encoding='utf-8') as f:
                json.dump(meta, f)
    except OSError as err:
        written = read_cache_meta(folder)
        if written is not None and written.get('source') == meta['source']:  # another process finished first
            return True
        print_log(f'cannot write the annotation cache {folder} ({err}); keeping the annotations in memory',
                  logger='current', level=logging.WARNING)
        return False
    return True
