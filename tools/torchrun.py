"""torchrun (``python -m torch.distributed.run``, same arguments) that ends a failed job in one line.

Each process of a failed job has printed its own ``error: ...`` line already; torchrun
would add a 30-line traceback of its own. This says which process failed first instead,
and exits with its status. ``tools/dist_train.sh`` and ``dist_test.sh`` start jobs with it.
"""
import sys

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import parse_args, run

from pyskl.runner.cli import write_line
from pyskl.runner.launch import first_failure, job_failure_line


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except ChildFailedError as e:
        write_line(job_failure_line(e.failures))
        exitcode = first_failure(e.failures)[1].exitcode
        return exitcode if exitcode > 0 else 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
