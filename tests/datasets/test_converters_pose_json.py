"""Reading mmpose and OpenPose JSON (pyskl.datasets.converters.pose_json), on files the tests write."""
import json

import numpy as np
import pytest

from pose_json_files import write_mmpose, write_openpose
from pyskl.datasets.converters.pose_json import (BODY25_TO_COCO, BODY25_TO_OPENPOSE, OPENPOSE_TO_COCO,
                                                 keep_best_persons, read_mmpose_json, read_openpose_folder,
                                                 to_layout)
from pyskl.skeleton import get_layout


def _person(V, value, score):
    return np.full((V, 2), value, np.float32), np.full(V, score, np.float32)


def test_persons_ranked_by_mean_score_per_frame():
    frames = [[_person(3, 1, 0.2), _person(3, 2, 0.9), _person(3, 3, 0.5)],  # best: 2, then 3
              [],                                                          # nobody: zeros
              [_person(3, 4, 0.7)]]
    out = keep_best_persons([(np.stack([p[0] for p in f]) if f else np.zeros((0, 3, 2)),
                              np.stack([p[1] for p in f]) if f else np.zeros((0, 3))) for f in frames], max_person=2)
    assert out['keypoint'].shape == (2, 3, 3, 2) and out['total_frames'] == 3
    assert out['keypoint'][:, 0, 0, 0].tolist() == [2, 3] and out['keypoint_score'][:, 0, 0].tolist() == [
        pytest.approx(0.9), pytest.approx(0.5)]
    assert not out['keypoint'][:, 1].any() and not out['keypoint_score'][:, 1].any()
    assert out['keypoint'][:, 2, 0, 0].tolist() == [4, 0]


def test_read_mmpose_json(tmp_path):
    path = write_mmpose(tmp_path / 'walk.json', [[_person(17, 5, 0.3), _person(17, 6, 0.8)], [_person(17, 7, 0.6)]])
    sample = read_mmpose_json(path, max_person=1)
    assert sample['frame_dir'] == 'walk' and sample['layout'] == 'coco'
    assert sample['keypoint'].shape == (1, 2, 17, 2) and sample['keypoint'][0, :, 0, 0].tolist() == [6, 7]


def test_read_openpose_folder_body25_and_coco18(tmp_path):
    rng = np.random.default_rng(0)
    kp = rng.random((25, 2)).astype(np.float32)
    sample = read_openpose_folder(write_openpose(tmp_path / 'b25', [[(kp, np.ones(25, np.float32))]]))
    assert sample['layout'] == 'body_25' and sample['keypoint'].shape == (1, 1, 25, 2)
    coco = to_layout(sample, 'coco', 17)
    np.testing.assert_array_equal(coco['keypoint'][0, 0], kp[list(BODY25_TO_COCO)])
    assert coco['keypoint'][0, 0, 1].tolist() == kp[16].tolist()  # COCO left eye = BODY_25 LEye (16)
    op18 = to_layout(sample, 'openpose', 18)
    np.testing.assert_array_equal(op18['keypoint'][0, 0], kp[list(BODY25_TO_OPENPOSE)])
    sample = read_openpose_folder(write_openpose(tmp_path / 'c18', [[(kp[:18], np.ones(18, np.float32))]]))
    assert sample['layout'] == 'openpose'
    np.testing.assert_array_equal(to_layout(sample, 'coco', 17)['keypoint'][0, 0], kp[:18][list(OPENPOSE_TO_COCO)])


def test_mappings_keep_left_and_right():
    # a mapped left joint must be a left joint: the mirror pairs of the target layout are
    # images of the source's mirror pairs
    coco, openpose = get_layout('coco'), get_layout('openpose')
    for left, right in coco.mirror_pairs:
        pair = {OPENPOSE_TO_COCO[left], OPENPOSE_TO_COCO[right]}
        assert any(pair == {a, b} for a, b in openpose.mirror_pairs), (left, right)


@pytest.mark.parametrize('target, joints, message', [
    ('nturgb+d', 25, "25 joints (body_25 layout) do not fit the model's layout 'nturgb+d' (25 joints); a config with "
                     "graph_cfg.layout='coco' or 'openpose' fits them"),
])
def test_a_layout_that_does_not_fit(tmp_path, target, joints, message):
    sample = read_openpose_folder(write_openpose(tmp_path / 'x', [[_person(25, 1, 1)]]))
    with pytest.raises(ValueError) as err:
        to_layout(sample, target, joints)
    assert message in str(err.value)


def test_malformed_files_name_the_file_and_field(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps([dict(frame_id=0, instances=[dict(keypoints=[[0, 0]] * 17, keypoint_scores=[1] * 16)])]))
    with pytest.raises(ValueError, match=r"bad.json: frame 0 instance 0 field 'keypoint_scores': shape \(16,\)"):
        read_mmpose_json(path)
    folder = tmp_path / 'op'
    folder.mkdir()
    (folder / 'a_keypoints.json').write_text(json.dumps(dict(people=[dict(pose_keypoints_2d=[0.0] * 20)])))
    with pytest.raises(ValueError, match='person 0 field "pose_keypoints_2d": 20 numbers'):
        read_openpose_folder(folder)
    with pytest.raises(ValueError, match='no person is detected'):
        read_mmpose_json(write_mmpose(tmp_path / 'empty.json', [[], []]))
    (tmp_path / 'none').mkdir()
    with pytest.raises(FileNotFoundError, match='no .json files'):
        read_openpose_folder(tmp_path / 'none')
