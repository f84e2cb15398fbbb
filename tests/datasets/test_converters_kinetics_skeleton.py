"""Kinetics-Skeleton converter: clip and label files in the release's format, written here."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.converters.kinetics_skeleton import convert_kinetics_skeleton, read_clip, read_label_file
from pyskl.utils import load_pickle
from release_files import kinetics_person as person
from release_files import make_kinetics_release as make_release
from release_files import write_kinetics_clip as write_clip

REPO = Path(__file__).resolve().parents[2]


def test_read_clip_keypoints_are_the_files_values_in_pixels(tmp_path):
    first, second = person(0.1, 0.3), person(0.2, 0.9)  # the second scores higher
    path = write_clip(tmp_path, 'clip', [(1, [first, second]), (2, [first])])
    sample = read_clip(path)
    assert sample['frame_dir'] == 'clip' and sample['total_frames'] == 2 and sample['img_shape'] == (256, 340)
    assert sample['keypoint'].shape == (2, 2, 18, 2) and sample['keypoint_score'].shape == (2, 2, 18)
    # frame 0: person 0 is the file's second skeleton (higher summed score)
    x, y = np.array(second['pose'][0::2]), np.array(second['pose'][1::2])
    np.testing.assert_allclose(sample['keypoint'][0, 0, :, 0], np.float32(x) * 340, rtol=1e-6)
    np.testing.assert_allclose(sample['keypoint'][0, 0, :, 1], np.float32(y) * 256, rtol=1e-6)
    np.testing.assert_array_equal(sample['keypoint_score'][0, 0], np.float32(second['score']))
    np.testing.assert_array_equal(sample['keypoint_score'][1, 0], np.float32(first['score']))
    np.testing.assert_array_equal(sample['keypoint'][1, 1], 0)  # one person in frame 1
    assert sample['file_label'] == 0 and sample['frames_cut'] == 0


def test_protocol_five_candidates_two_kept_frame_limit_and_gaps(tmp_path):
    # six skeletons: the sixth scores best but is not among ST-GCN's first five candidates
    people = [person(0.1 * k, 0.1 * k) for k in range(1, 6)] + [person(0.9, 5.0)]
    path = write_clip(tmp_path, 'clip', [(0, people), (2, [person(0.3)]), (7, [person(0.4)])])
    sample = read_clip(path, max_frames=5)
    assert sample['total_frames'] == 3 and sample['frames_cut'] == 1  # frame 7 is beyond 5 frames
    np.testing.assert_array_equal(sample['keypoint_score'][:, 0, 0], np.float32([0.5, 0.4]))  # 5th and 4th
    np.testing.assert_array_equal(sample['keypoint'][:, 1], 0)  # frame 1 is missing from the file: no person
    assert sample['keypoint_score'][0, 2, 0] == np.float32(0.5)


@pytest.mark.parametrize('content, message', [
    ('{"data": [{"frame_index": 1, "skeleton": [', 'not valid JSON'),
    ('[]', 'expected a JSON object'),
    ('{"label_index": 0}', 'field "data" is missing'),
    ('{"data": []}', 'holds no frame'),
    ('{"data": [{"frame_index": 1}]}', '"frame_index" and "skeleton"'),
    ('{"data": [{"frame_index": -1, "skeleton": []}]}', '"frame_index" must be a non-negative integer'),
    ('{"data": [{"frame_index": 1.5, "skeleton": []}]}', '"frame_index" must be a non-negative integer'),
    ('{"data": [{"frame_index": 1, "skeleton": []}, {"frame_index": 1, "skeleton": []}]}', 'appears twice'),
    ('{"data": [{"frame_index": 1, "skeleton": []}]}', 'no person in any of its 1 frames'),
    ('{"data": [{"frame_index": 1, "skeleton": [{"pose": [0.5, 0.5], "score": [1]}]}]}', 'has 2 numbers; expected 36'),
    ('{"data": [{"frame_index": 1, "skeleton": [{"pose": ' + json.dumps([0.5] * 36) + ', "score": '
     + json.dumps([1] * 17) + '}]}]}', 'field "score" has 17 numbers; expected 18'),
    ('{"data": [{"frame_index": 1, "skeleton": [{"pose": ' + json.dumps([0.5] * 35 + ['x']) + ', "score": '
     + json.dumps([1] * 18) + '}]}]}', 'must be a list of numbers'),
    ('{"data": [{"frame_index": 1, "skeleton": [{"pose": [' + ', '.join(['0.5'] * 35 + ['NaN']) + '], "score": '
     + json.dumps([1] * 18) + '}]}]}', 'NaN/inf'),
    ('{"data": [{"frame_index": 1, "skeleton": [{"pose": [' + ', '.join(['0.5'] * 35 + ['1e39']) + '], "score": '
     + json.dumps([1] * 18) + '}]}]}', 'NaN/inf'),
    ('{"label_index": "a", "data": []}', '"label_index" must be an integer'),
])
def test_bad_clip_is_one_line_naming_file_and_field(tmp_path, content, message):
    path = tmp_path / 'clip.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        read_clip(path)
    assert str(info.value).startswith('clip.json: ') and '\n' not in str(info.value)


def test_label_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='label file'):
        read_label_file(tmp_path / 'absent.json')
    path = tmp_path / 'labels.json'
    path.write_text(json.dumps(dict(v=dict(label_index=400, has_skeleton=True))))
    with pytest.raises(ValueError, match=r"video 'v': field \"label_index\" must be an integer from 0 to 399"):
        read_label_file(path)
    path.write_text(json.dumps(dict(v=dict(label_index=3, has_skeleton='yes'))))
    with pytest.raises(ValueError, match='"has_skeleton" must be true or false'):
        read_label_file(path)
    path.write_text(json.dumps(dict(v=dict(label_index=3, label='x'))))
    assert read_label_file(path) == dict(v=(True, 'x', 3))


def test_convert_release(tmp_path):
    root = make_release(tmp_path / 'release')
    report = convert_kinetics_skeleton(root, tmp_path / 'out' / 'ks.pkl', num_workers=1, progress=False)
    skipped = sorted((s.name, s.kind) for s in report.skipped)
    assert skipped == [('kinetics_train/vid_bad.json', 'malformed'), ('kinetics_train/vid_lost.json', 'missing'),
                       ('kinetics_train/vid_none.json', 'no-skeleton'), ('kinetics_val/vid_empty.json', 'no-person')]
    summary = report.summary()
    assert 'ks.pkl: 3 samples, 3 classes (train 2, val 1)' in summary
    assert 'skipped 4 input(s): 1 malformed, 1 missing, 1 no-person, 1 no-skeleton' in summary
    assert 'skipped kinetics_train/vid_bad.json (malformed): not valid JSON' in summary
    assert 'vid_none' not in summary  # has_skeleton: false is counted only (thousands in the release)
    data = load_pickle(tmp_path / 'out' / 'ks.pkl')
    assert data['split'] == dict(train=['vid_a', 'vid_b'], val=['vid_c'])
    by_name = {a['frame_dir']: a for a in data['annotations']}
    assert by_name['vid_b']['label'] == 2 and by_name['vid_b']['total_frames'] == 3
    assert by_name['vid_a']['keypoint'].dtype == np.float16 and by_name['vid_a']['keypoint_score'].dtype == np.float16
    np.testing.assert_array_equal(by_name['vid_a']['keypoint'],
                                  read_clip(root / 'kinetics_train' / 'vid_a.json')['keypoint'].astype(np.float16))
    assert by_name['vid_a']['keypoint'].shape == (2, 2, 18, 2)
    names = (tmp_path / 'out' / 'kinetics_skeleton_label_map.txt').read_text().splitlines()
    assert names == ['abseiling', 'answering questions', 'air drumming']


def test_label_disagreement_and_duplicates(tmp_path):
    root = make_release(tmp_path / 'release')
    write_clip(root / 'kinetics_train', 'vid_a', [(1, [person(0.1)])], label_index=5)
    write_clip(root / 'kinetics_val', 'vid_b', [(1, [person(0.1)])], label_index=2)
    labels = json.loads((root / 'kinetics_val_label.json').read_text())
    labels['vid_b'] = dict(has_skeleton=True, label='air drumming', label_index=2)
    (root / 'kinetics_val_label.json').write_text(json.dumps(labels))
    (root / 'kinetics_val' / 'stray.json').write_text('{}')
    report = convert_kinetics_skeleton(root, tmp_path / 'ks.pkl', num_workers=1, progress=False)
    reasons = {s.name: (s.kind, s.reason) for s in report.skipped}
    assert reasons['kinetics_train/vid_a.json'] == ('malformed', 'field "label_index" is 5 but the label file says 0')
    assert reasons['kinetics_val/vid_b.json'][0] == 'duplicate'
    assert reasons['kinetics_val/stray.json'][0] == 'not-in-labels'


def test_values_beyond_float16_are_skipped_unless_float32(tmp_path):
    root = make_release(tmp_path / 'release')
    big = person(0.1)
    big['pose'][3] = 300.0  # a normalised coordinate: 300 * 256 pixels is beyond float16
    write_clip(root / 'kinetics_train', 'vid_a', [(1, [big])])
    report = convert_kinetics_skeleton(root, tmp_path / 'a.pkl', num_workers=1, progress=False)
    reasons = {s.name: s.reason for s in report.skipped}
    assert 'beyond the float16 range' in reasons['kinetics_train/vid_a.json']
    report = convert_kinetics_skeleton(root, tmp_path / 'b.pkl', num_workers=1, dtype=np.float32, progress=False)
    assert 'kinetics_train/vid_a.json' not in {s.name for s in report.skipped}
    sample = {a['frame_dir']: a for a in load_pickle(tmp_path / 'b.pkl')['annotations']}['vid_a']
    assert sample['keypoint'][0, 0, 1, 1] == np.float32(300.0) * 256


def test_cli(tmp_path, capsys):
    main = runpy.run_path(str(REPO / 'tools' / 'data' / 'kinetics_skeleton_preproc.py'))['main']
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0 and 'kinetics_train_label.json' in capsys.readouterr().out
    root = make_release(tmp_path / 'release')
    main([str(root), str(tmp_path / 'x.pkl'), '--no-progress', '--workers', '1', '--float32'])
    out = capsys.readouterr().out
    assert 'x.pkl: 3 samples' in out and 'skipped 4 input(s)' in out
    assert load_pickle(tmp_path / 'x.pkl')['annotations'][0]['keypoint'].dtype == np.float32
    with pytest.raises(SystemExit, match='is not a folder'):
        main([str(tmp_path / 'absent'), str(tmp_path / 'y.pkl')])
    (root / 'kinetics_val_label.json').unlink()
    with pytest.raises(SystemExit, match="kinetics_val_label.json does not exist"):
        main([str(root), str(tmp_path / 'y.pkl')])
