"""One training per work dir: an advisory lock on ``WORK_DIR/.train.lock``.

Two trainings in one work dir would interleave their logs and overwrite each other's
checkpoints, and a second one started later would resume from the first one's. The
lock is an ``flock`` on an open file, which the operating system drops when the process
ends, however it ends: a crashed or killed run never leaves it stuck.
"""
import datetime
import fcntl
import os
import os.path as osp
import socket

LOCK_NAME = '.train.lock'
_held: dict[str, tuple[int, int]] = {}  # real path of a work dir -> (lock file descriptor, holders in this process)


class WorkDirBusyError(RuntimeError):
    """Another process is training in this work dir."""


def lock_work_dir(work_dir: str) -> None:
    """Take the training lock of ``work_dir`` (made if missing), or raise :class:`WorkDirBusyError`.

    Reentrant within a process (each call needs an :func:`unlock_work_dir`).
    """
    os.makedirs(work_dir, exist_ok=True)
    key = osp.realpath(work_dir)
    if key in _held:
        fd, count = _held[key]
        _held[key] = (fd, count + 1)
        return
    path = osp.join(key, LOCK_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors='replace').strip() or 'another process'
        os.close(fd)
        raise WorkDirBusyError(f'{work_dir} is in use by another training ({holder}); wait for it to end, or give '
                               'this run another --work-dir') from None
    os.ftruncate(fd, 0)
    since = datetime.datetime.now().isoformat(timespec='seconds')
    os.pwrite(fd, f'pid {os.getpid()} on {socket.gethostname()} since {since}\n'.encode(), 0)
    _held[key] = (fd, 1)


def unlock_work_dir(work_dir: str) -> None:
    """Give back one :func:`lock_work_dir` of this process; the last one releases the lock."""
    key = osp.realpath(work_dir)
    if key not in _held:
        return
    fd, count = _held.pop(key)
    if count > 1:
        _held[key] = (fd, count - 1)
        return
    os.ftruncate(fd, 0)
    os.close(fd)  # releases the flock
