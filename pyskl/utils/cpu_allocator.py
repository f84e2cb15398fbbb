"""Large CPU tensors in transparent huge pages.

PyTorch's CPU allocator takes every large tensor from the C library, which maps it afresh and
unmaps it when it is freed, so the next tensor faults all of its 4 KiB pages in again. DG-STGCN's
activations at NTU batch sizes are 20-80 MiB and a training step allocates hundreds of them.
``THP_MEM_ALLOC_ENABLE=1`` (PyTorch's own switch) aligns allocations of 2 MiB and more to 2 MiB
and asks the kernel for huge pages there: a 64 MiB tensor then faults 544 times instead of 16,385
(``tests/utils/test_cpu_allocator.py``); ``tools/benchmarks/model_speed.py`` prints the faults
and speed of whole steps. PyTorch reads the switch at its first CPU allocation, so it applies
when pyskl is imported before any tensor is made (as in ``tools/``). ``THP_MEM_ALLOC_ENABLE=0``
in the environment keeps PyTorch's default; where the kernel's transparent huge pages are
``never`` the switch does nothing.
"""
import os

SWITCH = 'THP_MEM_ALLOC_ENABLE'


def use_huge_pages() -> bool:
    """Turn PyTorch's huge-page allocation on unless the environment says otherwise.

    Returns whether it is on (set now or before, by us or by the user)."""
    os.environ.setdefault(SWITCH, '1')
    return os.environ[SWITCH] == '1'


def kernel_huge_pages() -> str:
    """The kernel's transparent huge page mode ('always', 'madvise', 'never'; '' if unknown)."""
    try:
        with open('/sys/kernel/mm/transparent_hugepage/enabled') as f:
            text = f.read()
    except OSError:
        return ''
    return text[text.find('[') + 1:text.find(']')] if '[' in text else text.strip()
