"""Finding the checkpoint to resume from.

Reading: :func:`pyskl.models.checkpoint.read_checkpoint` (re-exported here), the one
weights-only reader that every path uses.
(Writing is atomic: :mod:`pyskl.utils.fileio`, through ``AtomicCheckpointHook``.)
"""
import glob
import os.path as osp
import re

from pyskl.models.checkpoint import allow_checkpoint_globals, read_checkpoint  # noqa: F401 (re-exported)

_STEP_FILE = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def find_resume_checkpoint(work_dir: str) -> str | None:
    """The checkpoint to resume from in ``work_dir``, or None.

    The one ``work_dir/last_checkpoint`` names (written by the checkpoint hook); if that
    file is missing, empty or names a file that is gone, the newest ``epoch_*.pth`` /
    ``iter_*.pth`` in ``work_dir``.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record, encoding='utf-8') as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
        if named and osp.isfile(osp.join(work_dir, osp.basename(named))):  # the work dir was moved
            return osp.join(work_dir, osp.basename(named))
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _STEP_FILE.match(osp.basename(path))
        if match:
            found.append((int(match.group(2)), osp.getmtime(path), path))
    return max(found)[2] if found else None
