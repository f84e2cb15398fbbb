"""tools/data/pose_json_to_anno.py on small mmpose and OpenPose outputs written here: persons kept by
score per frame, OpenPose joints mapped to COCO-17, skips reported."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets import PoseDataset
from pyskl.datasets.converters.pose_json import (OPENPOSE_TO_LAYOUT, PoseJsonError, frames_to_skeleton,
                                                 read_mmpose_json, read_openpose_folder)
from pyskl.utils import load_pickle

REPO = Path(__file__).resolve().parents[2]


def mm_person(x, score, V=17):
    return dict(keypoints=[[x + v, 10.0 * v] for v in range(V)], keypoint_scores=[score] * V, bbox=[[0, 0, 1, 1]],
                bbox_score=0.9)


def write_mmpose(path, frames, wrapped=True):
    """``frames``: per frame, a list of (x, score) persons."""
    info = [dict(frame_id=t, instances=[mm_person(x, s) for x, s in persons]) for t, persons in enumerate(frames)]
    path.write_text(json.dumps(dict(meta_info={}, instance_info=info) if wrapped else info))


def write_openpose(folder, frames, joints=25):
    """OpenPose joint j of a person at x + j, y = 2 j, confidence c."""
    folder.mkdir()
    for t, persons in enumerate(frames):
        people = [dict(pose_keypoints_2d=[v for j in range(joints) for v in (x + j, 2.0 * j, c)])
                  for x, c in persons]
        (folder / f'{folder.name}_{t:012d}_keypoints.json').write_text(json.dumps(dict(version=1.3, people=people)))


def test_mmpose_persons_ranked_by_score_per_frame(tmp_path):
    path = tmp_path / 'v.json'
    write_mmpose(path, [[(100, 0.3), (200, 0.9), (300, 0.6)], [], [(400, 0.5)]])
    frames = read_mmpose_json(path)
    assert [f.shape for f in frames] == [(3, 17, 3), (0, 17, 3), (1, 17, 3)]
    skeleton, dropped = frames_to_skeleton(frames, max_person=2)
    assert skeleton.shape == (2, 3, 17, 3) and dropped == 1
    np.testing.assert_array_equal(skeleton[:, :, 0, 0], [[200, 0, 400], [300, 0, 0]])  # 0.9, 0.6; 0.3 dropped
    np.testing.assert_allclose(skeleton[0, 0, :, 2], 0.9)
    np.testing.assert_array_equal(skeleton[0, 0, 5, :2], [205, 50])
    write_mmpose(path, [[(1, 0.5)]], wrapped=False)  # the plain list of frames
    assert read_mmpose_json(path)[0].shape == (1, 17, 3)


@pytest.mark.parametrize('joints', [18, 25])
def test_openpose_joints_map_to_coco17(tmp_path, joints):
    write_openpose(tmp_path / 'v', [[(0, 0.8)], [(50, 0.4), (10, 0.9)]], joints)
    frames = read_openpose_folder(tmp_path / 'v', 'coco')
    assert [f.shape for f in frames] == [(1, 17, 3), (2, 17, 3)]
    # COCO-17 left shoulder (5) is OpenPose 5; left hip (11) is 11 in COCO-18, 12 in BODY_25
    np.testing.assert_array_equal(frames[0][0, [0, 5, 6, 11], 0], [0, 5, 2, 11 if joints == 18 else 12])
    assert list(OPENPOSE_TO_LAYOUT[(joints, 'coco')][1:3]) == ([15, 14] if joints == 18 else [16, 15])
    assert read_openpose_folder(tmp_path / 'v', 'openpose')[0].shape == (1, 18, 3)
    skeleton, _ = frames_to_skeleton(frames, max_person=10)
    np.testing.assert_array_equal(skeleton[:, 1, 0, 0], [10, 50])  # 0.9 before 0.4


def test_malformed_files_name_the_file_and_field(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(instance_info=[dict(frame_id=0, instances=[dict(keypoints=[[1, 2]])])])))
    with pytest.raises(PoseJsonError, match=r"bad.json: frame 0 instance 0: expected 'keypoints' and 'keypoint_"):
        read_mmpose_json(bad)
    bad.write_text('{not json')
    with pytest.raises(PoseJsonError, match='bad.json: not a readable JSON file'):
        read_mmpose_json(bad)
    folder = tmp_path / 'op'
    write_openpose(folder, [[(0, 0.5)]], joints=25)
    next(folder.iterdir()).write_text(json.dumps(dict(people=[dict(pose_keypoints_2d=[1, 2, 3, 4])])))
    with pytest.raises(PoseJsonError, match=r"person 0 field 'pose_keypoints_2d': expected 18 or 25 joints"):
        read_openpose_folder(folder)


def test_cli_converts_both_formats_and_reports_skips(tmp_path):
    data = tmp_path / 'outputs'
    data.mkdir()
    write_mmpose(data / 'walk.json', [[(100, 0.9)], [(110, 0.8), (500, 0.2)], [(120, 0.9)]])
    write_openpose(data / 'wave', [[(300, 0.7)], [(310, 0.7)]], joints=25)
    write_mmpose(data / 'empty.json', [[], []])
    (data / 'broken.json').write_text('[')
    write_mmpose(data / 'extra.json', [[(1, 0.5)]])
    csv = tmp_path / 'labels.csv'
    csv.write_text('name,label,split\nwalk,0,train\nwave,1,val\nempty,1,train\nbroken,0,train\ngone,0,val\n')
    out = tmp_path / 'mine_2d.pkl'
    proc = subprocess.run([sys.executable, 'tools/data/pose_json_to_anno.py', str(data), str(csv), str(out),
                           '--img-shape', '480', '640', '--max-person', '1'], cwd=REPO, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f'wrote {out}: 2 samples, 2 classes (train 1, val 1)'
    assert '1 person(s) beyond max_person=1 left out of their frames' in lines
    assert 'skipped 4 input(s): 1 missing, 1 no-person, 1 not-in-csv, 1 unreadable' in lines
    assert any(line.startswith('  skipped empty (no-person): ') for line in lines)
    assert any(line.startswith('  skipped extra.json (not-in-csv)') for line in lines)
    content = load_pickle(out)
    walk, wave = content['annotations']
    assert walk['keypoint'].shape == (1, 3, 17, 2) and walk['keypoint_score'].shape == (1, 3, 17)
    np.testing.assert_array_equal(walk['keypoint'][0, :, 0, 0], [100, 110, 120])
    assert walk['img_shape'] == (480, 640) and wave['label'] == 1 and wave['total_frames'] == 2
    # the file loads as a 2D dataset with the coco layout and runs the 2D NTU pipeline
    ds = PoseDataset(str(out), split='val', layout='coco', pipeline=[
        dict(type='PreNormalize2D'), dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSample', clip_len=8), dict(type='PoseDecode'), dict(type='FormatGCNInput', num_person=2)])
    assert ds[0]['keypoint'].shape == (1, 2, 8, 17, 3)
