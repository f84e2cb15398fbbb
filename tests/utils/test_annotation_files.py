"""Reading annotation pickles, their splits and label maps (pyskl.utils.annotation_files)."""
import pytest

from pyskl.utils.annotation_files import (find_sample, read_annotation_file, read_label_map, split_frame_dirs,
                                          split_samples)
from pyskl.utils.safe_pickle import dump_pickle


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
    with pytest.raises(KeyError, match=r"ann.pkl: no split 'test'; the file has splits \['val'\]"):
        split_samples(got, splits, 'test', 'ann.pkl')
    assert split_frame_dirs(splits, 'val', 'ann.pkl') == {'a', 'c'} and split_frame_dirs(None, None, 'x') is None
    with pytest.raises(KeyError, match="ann.pkl: split='val' was asked for, but the file has no 'split' dict"):
        split_samples(got, None, 'val', 'ann.pkl')
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
