import os
import stat

import pytest

from pyskl.utils import fileio
from pyskl.utils.fileio import (atomic_path, atomic_write, find_sample, read_annotation_file, read_label_map,
                                remove_stale_temporaries, split_samples)
from pyskl.utils.safe_pickle import dump_pickle


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


def test_read_label_map(tmp_path):
    path = tmp_path / 'labels.txt'
    path.write_text(' walk\nrun \njump\n\n\n')  # trailing blank lines are fine
    assert read_label_map(path) == ['walk', 'run', 'jump']
    for text, message in (('walk\n\nrun\n', 'line 2 of the label map is empty'),
                          ('walk\nrun\nwalk\n', "line 3 of the label map repeats 'walk' \\(line 1\\)"),
                          ('\n\n', 'the label map is empty')):
        path.write_text(text)
        with pytest.raises(ValueError, match=f'labels.txt: {message}'):
            read_label_map(path)


def test_read_annotation_file_and_select(tmp_path):
    samples = [dict(frame_dir='a', label=0), dict(frame_dir='b', label=1), dict(frame_dir='c', label=0)]
    dump_pickle(dict(split=dict(val=['c', 'a']), annotations=samples), tmp_path / 'ann.pkl')
    got, splits = read_annotation_file(tmp_path / 'ann.pkl')
    assert got == samples and splits == dict(val=['c', 'a'])
    assert [s['frame_dir'] for s in split_samples(got, splits, 'val', 'ann.pkl')] == ['a', 'c']  # file order
    assert split_samples(got, splits, None, 'ann.pkl') == samples
    with pytest.raises(KeyError, match=r"ann.pkl: no split 'test'; the file has \['val'\]"):
        split_samples(got, splits, 'test', 'ann.pkl')
    assert find_sample(got, 'b', None, 'ann.pkl')['label'] == 1
    assert find_sample(got, None, -1, 'ann.pkl')['frame_dir'] == 'c'
    with pytest.raises(KeyError, match="no sample with frame_dir 'z'"):
        find_sample(got, 'z', None, 'ann.pkl')
    dump_pickle(dict(split={}, annotations={'a': 1}), tmp_path / 'bad.pkl')
    with pytest.raises(TypeError, match="bad.pkl: 'annotations' must be a list"):
        read_annotation_file(tmp_path / 'bad.pkl')
    dump_pickle(dict(samples=[]), tmp_path / 'bad.pkl')
    with pytest.raises(KeyError, match="bad.pkl: expected a dict with 'annotations'"):
        read_annotation_file(tmp_path / 'bad.pkl')
