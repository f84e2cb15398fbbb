import io

import pytest

from pyskl.utils.progress import Progress, track


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _square(x):
    return x * x


def test_a_log_gets_one_line_per_tenth():
    log = io.StringIO()
    assert track(_square, list(range(95)), file=log) == [x * x for x in range(95)]
    lines = log.getvalue().splitlines()
    assert '\r' not in log.getvalue() and len(lines) == 10
    assert [line.split(' ')[0] for line in lines] == [f'{n}/95' for n in
                                                      (10, 19, 28, 38, 48, 57, 66, 76, 86, 95)]
    assert lines[-1].startswith('95/95 (100 %), ')


def test_few_tasks_print_each_once():
    log = io.StringIO()
    track(_square, [1, 2, 3], file=log)
    assert [line.split(' ')[0] for line in log.getvalue().splitlines()] == ['1/3', '2/3', '3/3']


def test_a_terminal_gets_mmengines_bar():
    tty = _Terminal()
    track(_square, list(range(5)), file=tty)
    assert tty.getvalue().count('\r') == 5 and tty.getvalue().endswith('\n')


@pytest.mark.parametrize('workers', [1, 2])
def test_results_keep_task_order_and_can_be_silent(workers, capsys):
    assert track(_square, list(range(50)), num_workers=workers, chunksize=3, show=False) == [x * x for x in
                                                                                             range(50)]
    assert capsys.readouterr().out == ''


def test_nothing_to_do():
    log = io.StringIO()
    assert track(_square, [], file=log) == [] and log.getvalue() == ''
    progress = Progress(0, file=log)
    progress.close()
    assert log.getvalue() == ''
