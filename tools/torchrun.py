"""torchrun (``python -m torch.distributed.run``, same arguments) that ends a failed job in one line.

Each process of a failed job has printed its own ``error: ...`` line already; torchrun
would add a 30-line traceback of its own. This says which process failed first instead,
and exits with its status. ``tools/dist_train.sh`` and ``dist_test.sh`` start jobs with it.
"""
import sys

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import parse_args, run


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except ChildFailedError as e:
        # a process that failed by itself, not one torchrun stopped (signal) because another failed
        rank, first = min(e.failures.items(), key=lambda item: (item[1].exitcode < 0, item[1].timestamp, item[0]))
        how = f'exit status {first.exitcode}' if first.exitcode >= 0 else f'signal {-first.exitcode}'
        print(f'error: {len(e.failures)} process(es) of the job failed, first rank {rank} ({how}); its '
              'message is above', file=sys.stderr)
        return first.exitcode if first.exitcode > 0 else 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
