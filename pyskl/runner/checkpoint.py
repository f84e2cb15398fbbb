"""Finding the checkpoint to resume from.

Each candidate is read by :func:`pyskl.models.checkpoint.read_checkpoint`, the one
weights-only reader that every path uses. (Writing is atomic: :mod:`pyskl.utils.fileio`,
through ``AtomicCheckpointHook``.)
"""
import glob
import logging
import os.path as osp
import re

from mmengine.logging import print_log

from pyskl.models.checkpoint import read_checkpoint

_STEP_FILE = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def _resume_candidates(work_dir: str) -> list[str]:
    """The checkpoints of ``work_dir`` that a run may resume from, the preferred first: the one
    ``work_dir/last_checkpoint`` names, then ``epoch_*.pth`` / ``iter_*.pth``, newest first."""
    named = None
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record, encoding='utf-8') as f:
            text = f.read().strip()
        if text and osp.isfile(text):
            named = text
        elif text and osp.isfile(osp.join(work_dir, osp.basename(text))):  # the work dir was moved
            named = osp.join(work_dir, osp.basename(text))
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _STEP_FILE.match(osp.basename(path))
        if match:
            found.append((int(match.group(2)), osp.getmtime(path), path))
    ordered = [path for _, _, path in sorted(found, reverse=True)]
    if named is None:
        return ordered
    return [named] + [p for p in ordered if osp.abspath(p) != osp.abspath(named)]


def find_resume_checkpoint(work_dir: str, readable: bool = False) -> str | None:
    """The checkpoint to resume from in ``work_dir``, or None.

    The one ``work_dir/last_checkpoint`` names (written by the checkpoint hook); if that
    file is missing, empty or names a file that is gone, the newest ``epoch_*.pth`` /
    ``iter_*.pth`` in ``work_dir``.

    ``readable``: skip checkpoints that do not load (e.g. truncated by a full disk or a
    copy), saying so in the log, and return the newest one that does; raise ``ValueError``
    if none does.
    """
    candidates = _resume_candidates(work_dir)
    if not readable or not candidates:
        return candidates[0] if candidates else None
    unreadable = []
    for path in candidates:
        try:
            read_checkpoint(path)
        except ValueError as e:
            unreadable.append(str(e))
            continue
        if unreadable:
            print_log(f'Resuming from {path}, the newest readable checkpoint; skipped: ' + '; '.join(unreadable),
                      logger='current', level=logging.WARNING)
        return path
    raise ValueError(f'no checkpoint in {work_dir} is readable ({"; ".join(unreadable)}); resume from another '
                     'with --resume CKPT, or train from scratch in another --work-dir')
