"""What the command-line tools share: turning a user's mistake into a one-line error."""
import os
import re
import sys
from contextlib import contextmanager

from pyskl.utils.run_errors import NoSpaceLeftError
from pyskl.utils.work_dir_lock import WorkDirBusyError

#: Exceptions that mean "the config, a file or an argument is wrong", not "pyskl has a bug".
USER_ERRORS = (KeyError, ValueError, TypeError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
               PermissionError, SyntaxError, FloatingPointError, WorkDirBusyError,
               NoSpaceLeftError)  # FloatingPointError: a nan/inf loss
#: Exit status for a user error (argparse uses 2 for usage errors too).
USER_ERROR_STATUS = 2

# mmengine's build_from_cfg re-raises with "class `X` in pyskl/transform: <cause>", nesting
# once per level; the innermost cause says what to fix, the classes say where.
_BUILD_PREFIX = re.compile(r'class `(\w+)` in [\w./]+: ')


def error_message(err: BaseException) -> str:
    """One line that says what went wrong, for the terminal."""
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        text = err.args[0]
    else:
        text = str(err) or type(err).__name__
    where = _BUILD_PREFIX.findall(text)
    text = _BUILD_PREFIX.sub('', text)
    # str(KeyError) quotes its message; nested re-raises quote it again
    while len(text) >= 2 and text[0] == text[-1] and text[0] in '"\'':
        text = text[1:-1]
    text = ' '.join(text.split())
    if where:
        text = f'{text} (building {" > ".join(where)})'
    if isinstance(err, SyntaxError) and err.filename:
        text = f'{err.filename}, line {err.lineno}: {err.msg}'
    return text


@contextmanager
def cli_errors():
    """Print a user error as ``error: ...`` on one line and exit with status 2.

    ``PYSKL_DEBUG=1`` in the environment shows the full traceback instead.
    """
    try:
        yield
    except USER_ERRORS as err:
        if os.environ.get('PYSKL_DEBUG', '') not in ('', '0'):
            raise
        rank = os.environ.get('RANK', '0')
        prefix = 'error' if rank == '0' else f'error (rank {rank})'
        write_line(f'{prefix}: {error_message(err)}')
        sys.exit(USER_ERROR_STATUS)


def write_line(text: str) -> None:
    """Write one line to stderr in a single system call.

    Every process of a distributed job shares the terminal; one write per line (atomic on a
    pipe up to 4 KiB) keeps their messages from interleaving mid-line.
    """
    data = (text + '\n').encode(errors='replace')
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # replaced stderr (e.g. captured in tests)
        print(text, file=sys.stderr, flush=True)
        return
    sys.stderr.flush()
    while data:
        data = data[os.write(fd, data):]
