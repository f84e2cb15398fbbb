"""What freshly mapped memory costs on this machine: the first touch of a large tensor.

Every tensor above glibc's mmap threshold (at most 32 MiB) gets pages of its own, which the
kernel maps in on first touch, one fault per 4 KiB page, each costing the kernel a microsecond or
two (1.4-2 us in a fresh process on the 2-core Xeon of the README). In a VM whose guest reports freed memory back to the host (virtio free page
reporting, ``page_reporting.page_reporting_order`` on the kernel command line, as in Firecracker
sandboxes), a page the host took back costs a host fault as well, and a process holding
gigabytes touches such pages more often. Model comparisons on CPU (``model_speed.py``) then
depend on how each model reuses memory as much as on its arithmetic.

Prints, for a fresh process and then for the same process holding ``--hold-gib`` GiB in 40 MiB
tensors (as a training step holds its activations), the time to fill a fresh ``--mib`` MiB tensor
and its page faults, medians of ``--repeats``, and the kernel's page-reporting setting.

    python tools/benchmarks/page_faults.py [--mib 80] [--hold-gib 4.5] [--repeats 5]
"""
import argparse
import resource
import statistics
import time

import torch


def page_reporting_order() -> str | None:
    """``page_reporting.page_reporting_order`` from the kernel command line, if set."""
    try:
        with open('/proc/cmdline') as f:
            for arg in f.read().split():
                if arg.startswith('page_reporting.page_reporting_order='):
                    return arg.split('=', 1)[1]
    except OSError:
        pass
    return None


def first_touch(numel: int, repeats: int) -> tuple[float, float]:
    """Median seconds and page faults to allocate and fill a fresh tensor of ``numel`` floats."""
    times, faults = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        torch.empty(numel).fill_(1.0)
        times.append(time.perf_counter() - t0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        time.sleep(0.5)  # give the guest time to report the freed pages, as between training steps
    return statistics.median(times), statistics.median(faults)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--mib', type=float, default=80, help='size of the freshly touched tensor')
    parser.add_argument('--hold-gib', type=float, default=4.5, help='memory the process holds in the second case')
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args(argv)
    if args.mib <= 0 or args.hold_gib < 0 or args.repeats < 1:
        parser.error('--mib must be > 0, --hold-gib >= 0, --repeats >= 1')
    numel = int(args.mib * 2**20 / 4)
    order = page_reporting_order()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; free page reporting: '
          + (f'on (page_reporting_order={order})' if order else 'not on the kernel command line'))
    fresh_s, fresh_faults = first_touch(numel, args.repeats)
    hold = [torch.ones(10 * 2**20) for _ in range(int(args.hold_gib * 1024 / 40))]
    held_s, held_faults = first_touch(numel, args.repeats)
    del hold
    for label, s, faults in (('fresh process', fresh_s, fresh_faults),
                             (f'holding {args.hold_gib:g} GiB', held_s, held_faults)):
        per_fault = f', {s / faults * 1e6:.1f} us a fault' if faults else ''
        print(f'{label:<20} fill {args.mib:g} MiB: {s * 1e3:7.1f} ms, {faults:.0f} page faults{per_fault}')
    print(f'holding / fresh: x{held_s / fresh_s:.2f}')


if __name__ == '__main__':
    main()
