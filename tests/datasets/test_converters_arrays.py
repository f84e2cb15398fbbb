"""Own arrays -> annotation format: round trips and the errors that name sample, file, row and field."""
import runpy
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.converters.arrays import arrays_to_annotations, folder_to_annotations
from pyskl.datasets.converters.common import ConversionReport
from pyskl.utils import load_pickle

REPO = Path(__file__).resolve().parents[2]


def kp(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_round_trip_3d():
    a, b, c = kp(5, 25, 3), kp(2, 7, 25, 3, seed=1), kp(1, 25, 3, seed=2)
    anno = arrays_to_annotations([('zeta', a, 3, 'train'), ('alpha', b, 0, ['val', 'extra']), ('mid', c, 1, None)],
                                 num_classes=4)
    assert anno['split'] == dict(train=['zeta'], val=['alpha'], extra=['alpha'])
    annos = anno['annotations']
    assert [x['frame_dir'] for x in annos] == ['alpha', 'mid', 'zeta']  # sorted by name
    by = {x['frame_dir']: x for x in annos}
    assert by['zeta']['keypoint'].shape == (1, 5, 25, 3) and by['zeta']['total_frames'] == 5
    np.testing.assert_array_equal(by['zeta']['keypoint'][0], a)
    np.testing.assert_array_equal(by['alpha']['keypoint'], b)
    assert by['alpha']['total_frames'] == 7 and by['mid']['total_frames'] == 1
    assert by['zeta']['label'] == 3 and type(by['zeta']['label']) is int
    assert all(x['keypoint'].dtype == np.float32 for x in annos)
    assert all(set(x) == {'frame_dir', 'label', 'keypoint', 'total_frames'} for x in annos)


def test_2d_with_scores_and_float16():
    arr = kp(4, 17, 3)
    anno = arrays_to_annotations([('s', arr, np.int64(2), 'train')], img_shape=(1080, 1920), score_last=True,
                                 dtype=np.float16)['annotations'][0]
    assert anno['keypoint'].shape == (1, 4, 17, 2) and anno['keypoint_score'].shape == (1, 4, 17)
    np.testing.assert_array_equal(anno['keypoint'], arr[None, ..., :2].astype(np.float16))
    np.testing.assert_array_equal(anno['keypoint_score'], arr[None, ..., 2].astype(np.float16))
    assert anno['img_shape'] == anno['original_shape'] == (1080, 1920)
    # Plain x, y: every joint gets confidence 1.
    anno = arrays_to_annotations([('s', kp(4, 17, 2), 0, 'train')], img_shape=(480, 640))['annotations'][0]
    np.testing.assert_array_equal(anno['keypoint_score'], np.ones((1, 4, 17), np.float32))


@pytest.mark.parametrize('samples, kwargs, error, message', [
    ([('a', kp(3, 25, 3), 0, 't'), ('a', kp(3, 25, 3), 0, 't')], {}, ValueError, "sample 'a': the name is given twice"),
    ([('a', kp(3, 25), 0, 't')], {}, ValueError, "sample 'a': field \"keypoint\" must be T x V x C"),
    ([('a', kp(0, 25, 3), 0, 't')], {}, ValueError, "sample 'a': field \"keypoint\" has an empty dimension"),
    ([('a', [[[0.0] * 3] * 25], 0, 't')], {}, TypeError, "sample 'a': field \"keypoint\" must be a numpy array"),
    ([('a', np.full((2, 25, 3), 'x'), 0, 't')], {}, TypeError, "sample 'a': field \"keypoint\" must hold numbers"),
    ([('a', kp(3, 25, 3), 5, 't')], dict(num_classes=5), ValueError, "sample 'a': field \"label\" is 5, outside"),
    ([('a', kp(3, 25, 3), -1, 't')], {}, ValueError, "sample 'a': field \"label\" is -1"),
    ([('a', kp(3, 25, 3), 1.0, 't')], {}, TypeError, "sample 'a': field \"label\" must be an integer"),
    ([('a', kp(3, 25, 3), True, 't')], {}, TypeError, "sample 'a': field \"label\" must be an integer"),
    ([('a', kp(3, 25, 3), 0, '')], {}, TypeError, "sample 'a': field \"split\""),
    ([('a', kp(3, 25, 3), 0, 't')], dict(num_joints=17), ValueError, "sample 'a': field \"keypoint\" has 25 joints, "
     'expected 17'),
    ([('a', kp(3, 25, 3), 0, 't'), ('b', kp(3, 17, 3), 0, 't')], {}, ValueError,
     "sample 'b': field \"keypoint\" has 17 joints, expected 25"),
    ([('a', kp(3, 25, 3), 0, 't'), ('b', kp(3, 25, 2), 0, 't')], {}, ValueError, "sample 'b'.* 2 channels"),
    ([('a', kp(3, 17, 2), 0, 't')], {}, ValueError, "sample 'a': 2D keypoints need img_shape"),
    ([('a', kp(3, 17, 2), 0, 't')], dict(score_last=True, img_shape=(4, 4)), ValueError, 'score_last needs C >= 3'),
    ([('a', kp(3, 17, 3), 0, 't')], dict(img_shape=(4, )), ValueError, 'img_shape must be'),
    ([('a', kp(3, 25, 3))], {}, TypeError, 'sample 0: expected a .name, array, label, split. tuple'),
    ([(None, kp(3, 25, 3), 0, 't')], {}, TypeError, 'sample 0: field "frame_dir"'),
    ([('a', np.full((2, 25, 3), 1e6), 0, 't')], dict(dtype=np.float16), ValueError, 'overflows float16'),
    ([], {}, ValueError, 'no samples given'),
])
def test_errors_name_sample_and_field(samples, kwargs, error, message):
    with pytest.raises(error, match=message):
        arrays_to_annotations(samples, **kwargs)


def test_nan_is_located():
    arr = kp(2, 4, 25, 3)
    arr[1, 3, 7, 2] = np.inf
    with pytest.raises(ValueError, match="sample 'b': field \"keypoint\" has a NaN/inf value at person 1, frame 3, "
                       'joint 7, channel 2'):
        arrays_to_annotations([('a', kp(3, 25, 3), 0, 't'), ('b', arr, 0, 't')])


def make_folder(tmp_path, rows, arrays):
    folder = tmp_path / 'npy'
    folder.mkdir()
    for name, arr in arrays.items():
        np.save(folder / f'{name}.npy', arr)
    csv = tmp_path / 'labels.csv'
    csv.write_text('\n'.join(rows) + '\n')
    return folder, csv


def test_folder_round_trip(tmp_path):
    arrays = dict(c1=kp(6, 25, 3), c2=kp(2, 4, 25, 3, seed=1), c3=kp(3, 25, 3, seed=2), extra=kp(2, 25, 3))
    folder, csv = make_folder(tmp_path, ['split,name,label', 'train,c2.npy,1', 'val , c1 , 0', 'train,c3,2'], arrays)
    report = ConversionReport(count_only_kinds=())
    anno = folder_to_annotations(folder, csv, tmp_path / 'out.pkl', report=report, num_classes=3)
    assert anno['split'] == dict(train=['c2', 'c3'], val=['c1'])
    loaded = load_pickle(tmp_path / 'out.pkl')
    assert [a['frame_dir'] for a in loaded['annotations']] == ['c1', 'c2', 'c3']
    np.testing.assert_array_equal(loaded['annotations'][0]['keypoint'][0], arrays['c1'])
    np.testing.assert_array_equal(loaded['annotations'][1]['keypoint'], arrays['c2'])
    assert [a['label'] for a in loaded['annotations']] == [0, 1, 2]
    assert [(s.name, s.kind) for s in report.skipped] == [('extra.npy', 'not-in-csv')]
    assert 'out.pkl: 3 samples, 3 classes (train 2, val 1)' in report.summary()


@pytest.mark.parametrize('rows, arrays, kwargs, message', [
    (['name,label'], {}, {}, 'header must name the columns name,label,split; missing split'),
    (['name,label,split'], {}, {}, 'no rows below the header'),
    (['name,label,split', 'a,x,train'], {}, {}, r'labels.csv, row 2 \(a\): field "label" must be an integer'),
    (['name,label,split', 'a,0,'], {}, {}, r'row 2 \(a\): field "split" is empty'),
    (['name,label,split', ',0,train'], {}, {}, 'row 2: field "name" is empty'),
    (['name,label,split', 'a,0,train,zz'], {}, {}, 'row 2: expected the columns'),
    (['name,label,split', 'a,0,train', 'b,0,train'], dict(a=kp(2, 25, 3)), {}, r'row 3 \(.*b.npy\): the array file '
     'does not exist'),
    (['name,label,split', 'a,0,train', 'a,1,val'], dict(a=kp(2, 25, 3)), {}, 'row 3 .*listed twice'),
    (['name,label,split', 'a,0,train', 'b,7,val'], dict(a=kp(2, 25, 3), b=kp(2, 25, 3)), dict(num_classes=3),
     r'b.npy \(.*labels.csv, row 3\): sample .b.: field "label" is 7'),
    (['name,label,split', 'a,0,train', 'b,1,val'], dict(a=kp(2, 25, 3), b=np.full((2, 25, 3), np.nan)), {},
     r'b.npy \(.*row 3\): sample .b.: field "keypoint" has a NaN/inf'),
    (['name,label,split', 'a,0,train', 'b,1,val'], dict(a=kp(2, 25, 3), b=kp(2, 17, 3)), {},
     r'b.npy \(.*row 3\): .*has 17 joints, expected 25'),
])
def test_folder_errors_name_file_row_field(tmp_path, rows, arrays, kwargs, message):
    folder, csv = make_folder(tmp_path, rows, arrays)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        folder_to_annotations(folder, csv, **kwargs)
    assert not (tmp_path / 'out.pkl').exists()


def test_folder_refuses_pickled_npy(tmp_path):
    folder, csv = make_folder(tmp_path, ['name,label,split', 'a,0,train'], {})
    np.save(folder / 'a.npy', np.array([{'x': 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r'row 2 \(.*a.npy\): not a readable .npy array'):
        folder_to_annotations(folder, csv)


def test_cli(tmp_path, capsys):
    main = runpy.run_path(str(REPO / 'tools' / 'data' / 'arrays_to_anno.py'))['main']
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0
    assert 'name,label,split' in capsys.readouterr().out
    folder, csv = make_folder(tmp_path, ['name,label,split', 'a,0,train', 'b,1,val'],
                              dict(a=kp(3, 25, 3), b=kp(4, 25, 3), c=kp(1, 25, 3)))
    main([str(folder), str(csv), str(tmp_path / 'mine.pkl'), '--num-classes', '2', '--float16'])
    out = capsys.readouterr().out
    assert 'mine.pkl: 2 samples, 2 classes (train 1, val 1)' in out and 'skipped c.npy (not-in-csv)' in out
    assert load_pickle(tmp_path / 'mine.pkl')['annotations'][1]['keypoint'].dtype == np.float16
    with pytest.raises(SystemExit, match='field "label" is 1, outside'):
        main([str(folder), str(csv), str(tmp_path / 'bad.pkl'), '--num-classes', '1'])


def test_a_labels_csv_that_is_not_utf8_is_one_line(tmp_path):
    # found by tools/benchmarks/fuzz_inputs.py: was a bare UnicodeDecodeError naming no file
    np.save(tmp_path / 'a.npy', np.zeros((4, 25, 3), np.float32))
    csv = tmp_path / 'labels.csv'
    csv.write_bytes(b'name,label,split\na,0,tr\xe9in\n')
    with pytest.raises(ValueError, match=rf'^{csv}, line 2: not UTF-8 text \(byte 0xe9\); save the file as UTF-8$'):
        folder_to_annotations(tmp_path, csv)
