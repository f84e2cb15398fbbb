"""Progress of long loops: mmengine's bar on a terminal, one line per 10 % in a log file.

A bar redraws itself with carriage returns; written to a log or a batch job's output
(not a terminal) that becomes one enormous line, so there we print plain lines instead.
"""
import sys
import time
from typing import Callable, Iterable, Optional, TextIO


class Progress:
    """``update()`` once per finished task; ``close()`` at the end."""

    def __init__(self, total: int, file: Optional[TextIO] = None, steps: int = 10):
        self.total, self.done, self.file = total, 0, file or sys.stdout
        isatty = getattr(self.file, 'isatty', None)
        self._bar = None
        if isatty is not None and isatty():
            from mmengine.utils import ProgressBar
            self._bar = ProgressBar(total, file=self.file)
        self._marks = sorted({max(1, round(total * i / steps)) for i in range(1, steps + 1)}) if total else []
        self._start = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        while self._marks and self.done >= self._marks[0]:
            self._marks.pop(0)
            elapsed = time.monotonic() - self._start
            self.file.write(f'{self.done}/{self.total} ({100 * self.done // max(self.total, 1)} %), '
                            f'{elapsed:.0f} s elapsed\n')
            self.file.flush()

    def close(self) -> None:
        if self._bar is not None:
            self.file.write('\n')
            self.file.flush()


def track(func: Callable, tasks: list, num_workers: int = 1, chunksize: int = 1, show: bool = True,
          file: Optional[TextIO] = None) -> list:
    """``[func(t) for t in tasks]``, in ``num_workers`` processes when > 1, showing progress."""
    progress = Progress(len(tasks), file) if show and tasks else None
    results = []

    def collect(outputs: Iterable) -> list:
        for out in outputs:
            results.append(out)
            if progress is not None:
                progress.update()
        if progress is not None:
            progress.close()
        return results

    if num_workers > 1 and len(tasks) > 1:
        import multiprocessing
        with multiprocessing.Pool(min(num_workers, len(tasks))) as pool:
            return collect(pool.imap(func, tasks, chunksize))
    return collect(map(func, tasks))
