"""tools/data/pose_json_to_anno.py on small mmpose and OpenPose outputs written here: persons kept by
score per frame, OpenPose joints mapped to COCO-17, skips reported, the file loads as a 2D dataset."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from pyskl.datasets import PoseDataset
from pyskl.datasets.converters import ConversionReport, pose_json_to_annotations
from pyskl.utils import load_pickle

REPO = Path(__file__).resolve().parents[2]


def write_mmpose(path, frames):
    """``frames``: per frame, a list of (x, score) persons; joint v of a person at (x + v, 10 v)."""
    info = [dict(frame_id=t, instances=[dict(keypoints=[[x + v, 10.0 * v] for v in range(17)],
                                             keypoint_scores=[s] * 17) for x, s in persons])
            for t, persons in enumerate(frames)]
    path.write_text(json.dumps(dict(meta_info={}, instance_info=info)))


def write_openpose(folder, frames, joints=25):
    """OpenPose joint j of a person at (x + j, 2 j), confidence c."""
    folder.mkdir()
    for t, persons in enumerate(frames):
        people = [dict(pose_keypoints_2d=[v for j in range(joints) for v in (x + j, 2.0 * j, c)])
                  for x, c in persons]
        (folder / f'{folder.name}_{t:012d}_keypoints.json').write_text(json.dumps(dict(version=1.3, people=people)))


def test_cli_converts_both_formats_and_reports_skips(tmp_path):
    data = tmp_path / 'outputs'
    data.mkdir()
    write_mmpose(data / 'walk.json', [[(100, 0.9)], [(500, 0.2), (110, 0.8)], [(120, 0.9)]])
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
    assert 'skipped 4 input(s): 1 missing, 1 not-in-csv, 2 unreadable' in lines
    assert any(line.startswith('  skipped empty (unreadable): ') and 'no person' in line for line in lines)
    assert any(line.startswith('  skipped broken (unreadable): ') and 'not valid JSON' in line for line in lines)
    assert any(line.startswith('  skipped extra.json (not-in-csv)') for line in lines)
    content = load_pickle(out)
    walk, wave = content['annotations']
    assert walk['keypoint'].shape == (1, 3, 17, 2) and walk['keypoint_score'].shape == (1, 3, 17)
    np.testing.assert_array_equal(walk['keypoint'][0, :, 0, 0], [100, 110, 120])  # frame 1: the 0.8 person
    np.testing.assert_array_equal(walk['keypoint'][0, 0, 5], [105, 50])
    assert walk['img_shape'] == (480, 640) and wave['label'] == 1 and wave['total_frames'] == 2
    # BODY_25 -> COCO-17 by joint name: left eye 16, left shoulder 5, left hip 12
    np.testing.assert_array_equal(wave['keypoint'][0, 0, [0, 1, 5, 11], 0], [300, 316, 305, 312])
    # the file loads as a 2D dataset with the coco layout and runs the 2D NTU pipeline
    ds = PoseDataset(str(out), split='val', layout='coco', pipeline=[
        dict(type='PreNormalize2D'), dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSample', clip_len=8), dict(type='PoseDecode'), dict(type='FormatGCNInput', num_person=2)])
    assert ds[0]['keypoint'].shape == (1, 2, 8, 17, 3)


def test_persons_ranked_per_frame_and_openpose_layout(tmp_path):
    data = tmp_path / 'outputs'
    data.mkdir()
    write_openpose(data / 'v', [[(0, 0.3), (50, 0.9), (90, 0.6)]], joints=18)
    csv = tmp_path / 'labels.csv'
    csv.write_text('name,label,split\nv,2,train\n')
    report = ConversionReport(count_only_kinds=())
    content = pose_json_to_annotations(data, csv, None, (100, 200), layout='openpose', max_person=2, report=report)
    (sample, ) = content['annotations']
    assert sample['keypoint'].shape == (2, 1, 18, 2)  # COCO-18 kept as it is
    np.testing.assert_array_equal(sample['keypoint'][:, 0, 0, 0], [50, 90])  # 0.9, 0.6; 0.3 left out
    assert report.notes == ['1 person(s) beyond max_person=2 left out of their frames']
