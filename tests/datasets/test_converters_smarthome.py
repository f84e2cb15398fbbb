"""Toyota Smarthome converter: LCR-Net++ JSON files in the release's format, written here."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.converters.toyota_smarthome import (SMARTHOME_CLASSES, SMARTHOME_CV_CLASSES, convert_smarthome,
                                                         parse_clip_name, read_smarthome_json)
from pyskl.utils import load_pickle
from release_files import make_smarthome_release as make_release
from release_files import smarthome_detection as detection
from release_files import write_smarthome_clip as write_clip

REPO = Path(__file__).resolve().parents[2]


def test_read_clip_3d_and_2d(tmp_path):
    low, high = detection(1.0, score=2.0), detection(2.0, score=9.5)
    path = write_clip(tmp_path, 'Walk_p03_r00_v01_c01', [[low, high], [], [low]])
    sample = read_smarthome_json(path)
    assert sample['frame_dir'] == 'Walk_p03_r00_v01_c01' and sample['total_frames'] == 3
    assert sample['keypoint'].shape == (2, 3, 13, 3) and 'keypoint_score' not in sample
    pose3d = np.float32(high['pose3d'])
    np.testing.assert_array_equal(sample['keypoint'][0, 0, :, 0], pose3d[:13])  # x of the best detection
    np.testing.assert_array_equal(sample['keypoint'][0, 0, :, 1], pose3d[13:26])
    np.testing.assert_array_equal(sample['keypoint'][0, 0, :, 2], pose3d[26:])
    np.testing.assert_array_equal(sample['keypoint'][1, 0, 12], np.float32(low['pose3d'][12::13]))  # head of low
    np.testing.assert_array_equal(sample['keypoint'][:, 1], 0)  # no detection in frame 1
    two_d = read_smarthome_json(path, two_d=True, max_person=1)
    assert two_d['keypoint'].shape == (1, 3, 13, 2) and two_d['img_shape'] == (480, 640)
    np.testing.assert_array_equal(two_d['keypoint'][0, 0, :, 0], np.float32(high['pose2d'][:13]))
    np.testing.assert_array_equal(two_d['keypoint'][0, 0, :, 1], np.float32(high['pose2d'][13:]))
    np.testing.assert_array_equal(two_d['keypoint_score'][0], [[1] * 13, [0] * 13, [1] * 13])


def test_extra_pose3d_values_are_ignored_and_counted(tmp_path):
    det = detection(1.0)
    det['pose3d'] = det['pose3d'] + [0.5, 0.6, 0.7]
    sample = read_smarthome_json(write_clip(tmp_path, 'Walk_p03_r00_v01_c01', [[det]]))
    assert sample['extra_3d'] == 1
    np.testing.assert_array_equal(sample['keypoint'][0, 0, :, 2], np.float32(det['pose3d'][26:39]))


def _det(**change):
    return dict(detection(1.0), **change)


@pytest.mark.parametrize('frames, override, message', [
    ([[_det()]], dict(njts=15), 'field "njts" is 15; the smarthome13 layout has 13 joints'),
    ([], {}, '"frames" must be a non-empty list'),
    ([[], []], {}, 'no person detected in any of its 2 frames'),
    ([{'a': 1}], {}, 'frame 0 of "frames" must be a list'),
    ([[{'pose2d': []}]], {}, 'frame 0, detection 0 must be an object with "pose2d", "pose3d" and "cumscore"'),
    ([[_det(pose2d=[1.0] * 24)]], {}, 'field "pose2d" has 24 numbers; expected 26'),
    ([[_det(pose3d=[1.0] * 36)]], {}, 'field "pose3d" has 36 numbers; expected 39'),
    ([[_det(pose3d=[1.0] * 38 + ['a'])]], {}, 'field "pose3d" must be a list of numbers'),
    ([[], [_det(pose3d=[1.0] * 38 + [float('nan')])]], {}, 'frame 1, detection 0: field "pose3d" has a NaN/inf'),
    ([[_det(cumscore=float('inf'))]], {}, '"cumscore" must be a finite number'),
    ([[_det(cumscore=None)]], {}, '"cumscore" must be a finite number'),
])
def test_bad_clip_is_one_line_naming_file_and_field(tmp_path, frames, override, message):
    path = write_clip(tmp_path, 'Walk_p03_r00_v01_c01', frames, **override)
    with pytest.raises(ValueError, match=message) as info:
        read_smarthome_json(path)
    assert str(info.value).startswith('Walk_p03_r00_v01_c01_pose3d.json: ') and '\n' not in str(info.value)


def test_truncated_and_missing_field(tmp_path):
    path = tmp_path / 'Walk_p03_r00_v01_c01_pose3d.json'
    path.write_text('{"njts": 13, "frames": [[{"pose2d": [1, 2')
    with pytest.raises(ValueError, match='not valid JSON'):
        read_smarthome_json(path)
    path.write_text('{"frames": [[]]}')
    with pytest.raises(ValueError, match="field 'njts' is missing"):
        read_smarthome_json(path)


def test_clip_names():
    assert parse_clip_name('Cook.Cleandishes_p02_r00_v02_c03') == dict(action='Cook.Cleandishes', subject=2, camera=3)
    assert parse_clip_name('WatchTV_p19_r01_v02_c05')['action'] == 'WatchTV'
    with pytest.raises(ValueError, match='not a clip name'):
        parse_clip_name('Walk_p03_c01')
    assert len(SMARTHOME_CLASSES) == 31 and len(SMARTHOME_CV_CLASSES) == 19
    assert set(SMARTHOME_CV_CLASSES) <= set(SMARTHOME_CLASSES)


def test_convert_release(tmp_path):
    root = make_release(tmp_path / 'json')
    report = convert_smarthome(root, tmp_path / 'out' / 'smarthome.pkl', progress=False)
    assert sorted((s.name, s.kind) for s in report.skipped) == [
        ('Dance_p03_r00_v01_c01_pose3d.json', 'unknown-action'), ('Walk_p04_r00_v01_c01_pose3d.json', 'malformed'),
        ('Walk_p05_r00_v01_c03_pose3d.json', 'no-person'), ('notes.json', 'bad-name')]
    summary = report.summary()
    assert 'smarthome.pkl: 6 samples, 5 classes (cs_train 3, cs_test 3)' in summary
    assert 'smarthome_cv.pkl: 5 samples, 4 classes (cv1_train 1, cv1_val 1, cv1_test 2, cv2_train 2, cv2_val 1, ' \
           'cv2_test 2)' in summary
    cs = load_pickle(tmp_path / 'out' / 'smarthome.pkl')
    assert cs['split']['cs_train'] == ['Cook.Cut_p03_r00_v01_c01', 'Drink.Fromcup_p25_r00_v02_c04',
                                       'Walk_p03_r00_v01_c01']
    labels = {a['frame_dir']: a['label'] for a in cs['annotations']}
    assert labels['Walk_p03_r00_v01_c01'] == 29 and labels['Cook.Cut_p03_r00_v01_c01'] == 2
    cv = load_pickle(tmp_path / 'out' / 'smarthome_cv.pkl')
    cv_labels = {a['frame_dir']: a['label'] for a in cv['annotations']}
    assert 'Cook.Cut_p03_r00_v01_c01' not in cv_labels  # not one of the 19 cross-view actions
    assert cv_labels['Walk_p03_r00_v01_c01'] == 18 and cv_labels['Readbook_p10_r01_v03_c05'] == 12
    assert cv['split']['cv1_test'] == ['Sitdown_p11_r00_v02_c02', 'Walk_p02_r00_v01_c02']
    assert cv['split']['cv2_train'] == ['Drink.Fromcup_p25_r00_v02_c04', 'Walk_p03_r00_v01_c01']
    first = cs['annotations'][0]
    assert first['keypoint'].shape == (1, 2, 13, 3) and first['total_frames'] == 2
    assert first['keypoint'].dtype == np.float16
    np.testing.assert_array_equal(first['keypoint'], read_smarthome_json(
        root / f'{first["frame_dir"]}_pose3d.json')['keypoint'].astype(np.float16))
    assert (tmp_path / 'out' / 'smarthome31_label_map.txt').read_text().splitlines() == list(SMARTHOME_CLASSES)
    assert (tmp_path / 'out' / 'smarthome19_label_map.txt').read_text().splitlines() == list(SMARTHOME_CV_CLASSES)


def test_cli(tmp_path, capsys):
    main = runpy.run_path(str(REPO / 'tools' / 'data' / 'smarthome_preproc.py'))['main']
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0 and 'cs_train' in capsys.readouterr().out
    root = make_release(tmp_path / 'json')
    main([str(root), str(tmp_path / 'x.pkl'), '--two-d', '--no-progress', '--cv-out', str(tmp_path / 'v.pkl'),
          '--float32'])
    out = capsys.readouterr().out
    assert 'x.pkl: 6 samples' in out and 'v.pkl: 5 samples' in out
    first = load_pickle(tmp_path / 'x.pkl')['annotations'][0]
    assert first['keypoint'].shape[-1] == 2 and first['keypoint'].dtype == np.float32
    assert first['keypoint_score'].dtype == np.float32
    with pytest.raises(SystemExit, match='no .json files'):
        (tmp_path / 'empty').mkdir()
        main([str(tmp_path / 'empty'), str(tmp_path / 'y.pkl')])
    (tmp_path / 'empty' / 'Walk_p03_r00_v01_c01_pose3d.json').write_text('{"njts": 12, "frames": []}')
    with pytest.raises(SystemExit, match=r'no clip could be converted; 1 skipped, e.g. Walk_p03_r00_v01_c01_pose3d'
                                         r'.json \(malformed\): field "njts" is 12'):
        main([str(tmp_path / 'empty'), str(tmp_path / 'y.pkl'), '--no-progress'])
