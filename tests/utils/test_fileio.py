import os
import stat

import pytest

from pyskl.utils import fileio
from pyskl.utils.fileio import atomic_path, atomic_write, remove_stale_temporaries


def test_atomic_write_replaces_or_keeps(tmp_path, monkeypatch):
    target = tmp_path / 'sub' / 'file.bin'
    atomic_write(b'old', target)
    assert target.read_bytes() == b'old'
    mode = stat.S_IMODE(os.stat(target).st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask
    atomic_write('new text', target)
    assert target.read_text() == 'new text'

    def killed(fd):
        raise KeyboardInterrupt  # stands for a signal arriving mid-write

    monkeypatch.setattr(fileio.os, 'fsync', killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(b'half', target)
    assert target.read_text() == 'new text'
    assert os.listdir(target.parent) == ['file.bin']  # no temporary left behind


def test_remove_stale_temporaries(tmp_path):
    (tmp_path / '.epoch_3.pth.k2j3.tmp').write_bytes(b'partial')
    (tmp_path / 'epoch_2.pth').write_bytes(b'good')
    removed = remove_stale_temporaries(str(tmp_path))
    assert [os.path.basename(p) for p in removed] == ['.epoch_3.pth.k2j3.tmp']
    assert os.listdir(tmp_path) == ['epoch_2.pth']


def test_atomic_path_keeps_the_suffix_and_replaces_a_folder(tmp_path):
    with atomic_path(tmp_path / 'clip.gif', keep_suffix=True) as tmp:
        assert tmp.suffix == '.gif' and tmp.parent == tmp_path
        tmp.write_bytes(b'gif')
    assert (tmp_path / 'clip.gif').read_bytes() == b'gif'
    (tmp_path / 'cache').mkdir()
    (tmp_path / 'cache' / 'old.npy').write_bytes(b'old')
    with atomic_path(tmp_path / 'cache', folder=True) as tmp:
        (tmp / 'new.npy').write_bytes(b'new')
    assert os.listdir(tmp_path / 'cache') == ['new.npy']
    with pytest.raises(RuntimeError), atomic_path(tmp_path / 'cache', folder=True) as tmp:
        (tmp / 'half.npy').write_bytes(b'half')
        raise RuntimeError('killed')
    assert os.listdir(tmp_path / 'cache') == ['new.npy']
    assert sorted(os.listdir(tmp_path)) == ['cache', 'clip.gif']
