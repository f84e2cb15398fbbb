"""One-line errors for the command-line tools (pyskl.runner.cli)."""
import pytest

from pyskl.runner.cli import USER_ERROR_STATUS, cli_errors, error_message


def test_key_error_loses_its_quotes():
    err = KeyError("'PoseDatset' is not a registered type in the pyskl::dataset registry. Did you mean 'PoseDataset'?")
    assert error_message(err) == ("'PoseDatset' is not a registered type in the pyskl::dataset registry. "
                                  "Did you mean 'PoseDataset'?")
    # re-raised by a builder that quoted str(KeyError) once more
    nested = KeyError(str(err))
    assert error_message(nested) == error_message(err)


def test_build_prefixes_become_the_place():
    err = TypeError('class `PoseDataset` in pyskl/dataset.py: class `Compose` in pyskl/transform.py: '
                    "__init__() got an unexpected keyword argument 'clip_lne'")
    assert error_message(err) == ("__init__() got an unexpected keyword argument 'clip_lne' "
                                  '(building PoseDataset > Compose)')


def test_multi_line_messages_become_one_line():
    assert error_message(ValueError('first\n   second')) == 'first second'
    err = SyntaxError('invalid syntax', ('configs/x.py', 3, 1, 'a = (', 3, 6))
    assert error_message(err) == 'configs/x.py, line 3: invalid syntax'


def test_cli_errors_prints_one_line_and_exits_2(capsys, monkeypatch):
    monkeypatch.delenv('PYSKL_DEBUG', raising=False)
    monkeypatch.delenv('RANK', raising=False)
    with pytest.raises(SystemExit) as info:
        with cli_errors():
            raise FileNotFoundError('data/x.pkl does not exist (data.train.ann_file in j.py)')
    assert info.value.code == USER_ERROR_STATUS == 2
    err = capsys.readouterr().err
    assert err == 'error: data/x.pkl does not exist (data.train.ann_file in j.py)\n'


def test_other_ranks_say_which_they_are(capsys, monkeypatch):
    monkeypatch.delenv('PYSKL_DEBUG', raising=False)
    monkeypatch.setenv('RANK', '3')
    with pytest.raises(SystemExit):
        with cli_errors():
            raise ValueError('bad')
    assert capsys.readouterr().err == 'error (rank 3): bad\n'


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv('PYSKL_DEBUG', '1')
    with pytest.raises(ValueError, match='bad'):
        with cli_errors():
            raise ValueError('bad')


def test_bugs_are_not_hidden(monkeypatch):
    monkeypatch.delenv('PYSKL_DEBUG', raising=False)
    with pytest.raises(RuntimeError, match='a real bug'):
        with cli_errors():
            raise RuntimeError('a real bug')


def test_concurrent_processes_do_not_interleave_lines():
    import os
    import subprocess
    import sys
    line = 'error (rank {}): ' + 'x' * 300
    code = ('import sys; from pyskl.runner.cli import write_line\n'
            f'for _ in range(300): write_line({line!r}.format(sys.argv[1]))')
    # both writers share one pipe, as the processes of a torchrun job share its stderr
    read, write = os.pipe()
    procs = [subprocess.Popen([sys.executable, '-c', code, str(rank)], stderr=write) for rank in range(2)]
    os.close(write)
    with open(read) as out:
        lines = out.read().splitlines()
    for proc in procs:
        assert proc.wait() == 0
    assert sorted(set(lines)) == [line.format(0), line.format(1)] and len(lines) == 600
