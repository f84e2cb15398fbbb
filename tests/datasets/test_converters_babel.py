"""BABEL converter: arrays and label pickles in the action-recognition release's format, written here."""
import json
import pickle
import runpy
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.converters.babel import chunk_to_keypoint, convert_babel, read_labels
from pyskl.utils import load_pickle
from release_files import babel_chunks as chunks
from release_files import make_babel_release as make_release
from release_files import write_babel_split as write_split

REPO = Path(__file__).resolve().parents[2]


def test_chunk_to_keypoint():
    data = chunks(2)
    keypoint = chunk_to_keypoint(data[0])
    assert keypoint.shape == (1, 150, 25, 3) and keypoint.dtype == np.float32
    np.testing.assert_array_equal(keypoint[0, 7, 3], data[0, :, 7, 3, 0])  # x, y, z of frame 7, joint 3
    assert chunk_to_keypoint(data[1]).shape == (1, 90, 25, 3)  # the zero padding is cut
    two = np.concatenate([data[0], np.zeros_like(data[0])], axis=-1)  # a second, all-zero person
    assert chunk_to_keypoint(two).shape == (1, 150, 25, 3)
    with pytest.raises(ValueError, match='every coordinate is zero'):
        chunk_to_keypoint(np.zeros((3, 150, 25, 1)))
    bad = data[0].copy()
    bad[1, 12, 4, 0] = np.nan
    with pytest.raises(ValueError, match='NaN/inf value .* person 0, frame 12, joint 4, channel y'):
        chunk_to_keypoint(bad)


def test_convert_release(tmp_path):
    root = make_release(tmp_path / 'release')
    action_index = tmp_path / 'action_label_2_idx.json'
    action_index.write_text(json.dumps({f'action {i}': i for i in range(150)}))
    report = convert_babel(root, tmp_path / 'out' / 'babel60.pkl', 60, action_index=action_index, progress=False)
    assert report.skipped == []
    assert 'babel60.pkl: 7 samples, 4 classes (train 4, val 3)' in report.summary()
    data = load_pickle(tmp_path / 'out' / 'babel60.pkl')
    assert data['split'] == dict(train=[f'train_{i:06d}' for i in range(4)], val=[f'val_{i:06d}' for i in range(3)])
    first = data['annotations'][0]
    assert first['frame_dir'] == 'train_000000' and first['label'] == 0 and first['keypoint'].shape == (1, 150, 25, 3)
    assert (first['seg_id'], first['babel_sid'], first['chunk_n']) == ('seg-train-0', 1000, 0)
    assert first['keypoint'].dtype == np.float16  # as the original PYSKL's NTU 3D files
    np.testing.assert_array_equal(first['keypoint'][0], chunks(4)[0, :, :, :, 0].transpose(1, 2, 0).astype(np.float16))
    assert data['annotations'][3]['total_frames'] == 90
    names = (tmp_path / 'out' / 'babel60_label_map.txt').read_text().splitlines()
    assert len(names) == 60 and names[59] == 'action 59'


def test_float32_keeps_every_digit_and_float16_refuses_what_it_cannot_hold(tmp_path):
    root = make_release(tmp_path / 'release')
    convert_babel(root, tmp_path / 'b32.pkl', 60, dtype=np.float32, progress=False)
    first = load_pickle(tmp_path / 'b32.pkl')['annotations'][0]
    np.testing.assert_array_equal(first['keypoint'][0], chunks(4)[0, :, :, :, 0].transpose(1, 2, 0))
    data = chunks(2)
    data[0, 2, 3, 4, 0] = 70000.0  # metres: beyond float16
    write_split(root, 'train', 60, data, [1, 2])
    report = convert_babel(root, tmp_path / 'b16.pkl', 60, progress=False)
    assert [(s.name, s.kind) for s in report.skipped] == [('train_ntu_sk_60.npy[0]', 'malformed')]
    assert 'beyond the float16 range of the annotation file (65504); convert with --float32' in report.skipped[0].reason


def test_bad_chunks_and_files_are_lines_in_the_summary(tmp_path):
    root = tmp_path / 'release'
    root.mkdir()
    data = chunks(4)
    data[1] = 0  # a chunk with no skeleton
    data[2, 0, 5, 5, 0] = np.inf
    write_split(root, 'train', 120, data, [0, 1, 119, 3], plain=True)  # the 2s-AGCN label form
    (root / 'val_ntu_sk_120.npy').write_bytes(b'\x93NUMPY garbage')
    with open(root / 'val_label_120.pkl', 'wb') as f:
        pickle.dump((['a'], [0]), f)
    report = convert_babel(root, tmp_path / 'babel120.pkl', 120, progress=False)
    summary = report.summary()
    assert 'babel120.pkl: 2 samples, 2 classes (train 2)' in summary
    assert 'skipped train_ntu_sk_120.npy[1] (no-body): every coordinate is zero' in summary
    assert 'skipped train_ntu_sk_120.npy[2] (malformed): a NaN/inf value' in summary
    assert 'skipped val_ntu_sk_120.npy (malformed): not a readable .npy array' in summary
    assert 'no label map written' in summary
    first = load_pickle(tmp_path / 'babel120.pkl')['annotations'][0]
    assert 'seg_id' not in first and first['label'] == 0


@pytest.mark.parametrize('content, message', [
    ('text', 'expected a pair'),
    ((['a', 'b'], [0]), 'different lengths'),
    ((['a'], [60]), 'entry 0: the label must be an integer from 0 to 59'),
    ((['a'], [True]), 'entry 0: the label'),
    ((['a'], ([0], ['x'], [0], ['n'])), 'entry 0: babel_sid must be an integer'),
    ((['a'], 5), 'labels must be a list'),
])
def test_bad_label_files(tmp_path, content, message):
    path = tmp_path / 'train_label_60.pkl'
    with open(path, 'wb') as f:
        pickle.dump(content, f)
    with pytest.raises(ValueError, match=message):
        read_labels(path, 60)


def test_label_file_that_runs_code_is_refused(tmp_path):
    path = tmp_path / 'train_label_60.pkl'
    with open(path, 'wb') as f:
        pickle.dump((['a'], [__import__('collections').Counter()]), f)
    with pytest.raises(ValueError, match='refusing to unpickle collections.Counter'):
        read_labels(path, 60)


def test_wrong_shapes_and_missing_files(tmp_path):
    root = tmp_path / 'release'
    root.mkdir()
    np.save(root / 'train_ntu_sk_60.npy', np.zeros((2, 3, 150, 24, 1), np.float32))  # 24 joints
    with open(root / 'train_label_60.pkl', 'wb') as f:
        pickle.dump((['a', 'b'], [0, 1]), f)
    write_split(root, 'val', 60, chunks(2), [1, 2, 3])  # one label too many
    with pytest.raises(ValueError, match='no BABEL-60 chunk could be converted') as info:
        convert_babel(root, tmp_path / 'b.pkl', 60, progress=False)
    assert '\n' not in str(info.value)
    assert '2 skipped, e.g. train_ntu_sk_60.npy (malformed): expected N x 3 x T x 25 x M' in str(info.value)
    write_split(root, 'val', 60, chunks(2), [1, 2])
    report = convert_babel(root, tmp_path / 'b.pkl', 60, progress=False)
    reasons = {s.name: s.reason for s in report.skipped}
    assert 'expected N x 3 x T x 25 x M' in reasons['train_ntu_sk_60.npy']
    report = convert_babel(root, tmp_path / 'b.pkl', 60, progress=False)
    (root / 'train_label_60.pkl').unlink()
    report = convert_babel(root, tmp_path / 'b.pkl', 60, progress=False)
    assert [(s.name, s.kind) for s in report.skipped] == [('train_label_60.pkl', 'missing')]
    with pytest.raises(ValueError, match='num_classes must be 60 or 120'):
        convert_babel(root, tmp_path / 'b.pkl', 100)


def test_cli(tmp_path, capsys):
    main = runpy.run_path(str(REPO / 'tools' / 'data' / 'babel_preproc.py'))['main']
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0 and '--classes' in capsys.readouterr().out
    root = make_release(tmp_path / 'release', classes=120)
    main([str(root), str(tmp_path / 'x.pkl'), '--classes', '120', '--no-progress'])
    assert 'x.pkl: 7 samples, 4 classes (train 4, val 3)' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no BABEL-60 chunk'):
        main([str(root), str(tmp_path / 'y.pkl'), '--classes', '60', '--no-progress'])
    with pytest.raises(SystemExit) as info:
        main([str(root), str(tmp_path / 'y.pkl'), '--classes', '100'])
    assert info.value.code == 2
