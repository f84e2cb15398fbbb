"""Reasons a training run stops that are not bugs; ``pyskl.runner.cli`` prints each as one line."""
import errno


class NoSpaceLeftError(OSError):
    """A checkpoint could not be saved for lack of disk space (or quota)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.errno = errno.ENOSPC

    def __str__(self) -> str:
        return self.args[0]


def is_out_of_space(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)
