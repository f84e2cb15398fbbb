"""The embedded demo dataset: deterministic, well-formed, plausible bodies, distinct classes."""
import pickle
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.demo_data import CLASSES, make_demo_annotations, make_sample, write_demo_data
from pyskl.models.graph import LAYOUTS
from pyskl.utils.safe_pickle import load_pickle

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / 'tools' / 'data' / 'demo' / 'demo_3danno.pkl'
CONFIG = REPO / 'configs' / 'dgstgcn' / 'demo' / 'j.py'


@pytest.fixture(scope='module')
def small():
    return make_demo_annotations(num_train=3, num_val=2)


def test_same_arguments_give_the_same_bytes_and_leave_global_state_alone(small):
    state = np.random.get_state()
    again = make_demo_annotations(num_train=3, num_val=2)
    assert pickle.dumps(small, protocol=4) == pickle.dumps(again, protocol=4)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    other_seed = make_demo_annotations(seed=1, num_train=3, num_val=2)
    assert not np.array_equal(small['annotations'][0]['keypoint'], other_seed['annotations'][0]['keypoint'])


def test_a_sample_does_not_depend_on_how_many_are_made(small):
    more = make_demo_annotations(num_train=5, num_val=1)
    by_name = {a['frame_dir']: a['keypoint'] for a in more['annotations']}
    for ann in small['annotations']:
        if ann['frame_dir'] in by_name:
            np.testing.assert_array_equal(ann['keypoint'], by_name[ann['frame_dir']])


def test_annotation_format(small):
    assert set(small) == {'split', 'annotations'}
    assert {k: len(v) for k, v in small['split'].items()} == {'train': 3 * len(CLASSES), 'val': 2 * len(CLASSES)}
    names = [a['frame_dir'] for a in small['annotations']]
    assert len(set(names)) == len(names)
    assert sorted(names) == sorted(small['split']['train'] + small['split']['val'])
    for ann in small['annotations']:
        kp = ann['keypoint']
        assert kp.dtype == np.float16 and kp.ndim == 4
        M, T, V, C = kp.shape
        assert M in (1, 2) and 40 <= T <= 100 and V == LAYOUTS['nturgb+d'].num_node and C == 3
        assert ann['total_frames'] == T and 0 <= ann['label'] < len(CLASSES)
        assert np.all(np.isfinite(kp.astype(np.float32)))
        assert np.all(np.any(kp[0] != 0, axis=-1)), 'the actor is present in every frame'


def test_bodies_are_rigid_and_stand_on_the_floor():
    for label in range(len(CLASSES)):
        kp = make_sample(label, np.random.default_rng([7, 0, label, 0]))[0]  # actor: T, V, C
        bones = np.linalg.norm(kp[:, [c for c, _ in LAYOUTS['nturgb+d'].inward]]
                               - kp[:, [p for _, p in LAYOUTS['nturgb+d'].inward]], axis=-1)
        # bone lengths change only by the joint noise (sigma 8 mm per coordinate)
        assert bones.std(axis=0).max() < 0.03, CLASSES[label]
        length = dict(zip(LAYOUTS['nturgb+d'].inward, bones.mean(axis=0)))
        arm = length[(5, 4)] + length[(6, 5)]  # left arm: shoulder-elbow, elbow-wrist (0-based joints 4, 5, 6)
        leg = length[(13, 12)] + length[(14, 13)]  # left leg: hip-knee, knee-ankle
        assert 0.35 < arm < 0.75 and 0.6 < leg < 1.1, (arm, leg)  # metres, as a human
        height = kp[:, 3, 1] - kp[:, [15, 19], 1].min(axis=1)  # head above the lowest foot
        assert 1.0 < np.median(height) < 2.0, CLASSES[label]


def test_classes_are_distinct_for_a_nearest_centroid_classifier():
    data = make_demo_annotations(num_train=12, num_val=6)

    def features(split):
        samples = [a for a in data['annotations'] if a['frame_dir'] in set(data['split'][split])]
        x = np.stack([_motion_features(a['keypoint']) for a in samples])
        return x, np.array([a['label'] for a in samples])

    x_train, y_train = features('train')
    x_val, y_val = features('val')
    centroids = np.stack([x_train[y_train == c].mean(0) for c in range(len(CLASSES))])
    pred = np.argmin(((x_val[:, None] - centroids[None])**2).sum(-1), axis=1)
    assert (pred == y_val).mean() > 0.7  # chance is 1/8


def _motion_features(keypoint):
    x = keypoint[0].astype(np.float32)
    x = x - x[:, :1]  # relative to the spine base
    return np.concatenate([x.std(0).ravel(), (x.max(0) - x.min(0)).ravel()])


def test_the_shipped_file_is_what_the_generator_makes(tmp_path):
    if not SHIPPED.exists():
        pytest.skip(f'{SHIPPED} is absent')
    shipped = load_pickle(SHIPPED)
    ann, label_map = write_demo_data(tmp_path)
    made = load_pickle(ann)
    assert shipped['split'] == made['split']
    assert label_map.read_text().splitlines() == list(CLASSES)
    assert (SHIPPED.parent / 'label_map.txt').read_text().splitlines() == list(CLASSES)
    for a, b in zip(shipped['annotations'], made['annotations']):
        assert a['frame_dir'] == b['frame_dir'] and a['label'] == b['label']
        # float16 rounding may differ by one step where libm differs between machines
        np.testing.assert_allclose(a['keypoint'].astype(np.float32), b['keypoint'].astype(np.float32), atol=5e-3)
    assert SHIPPED.stat().st_size < 5e6


def test_the_demo_config_reads_the_shipped_file():
    if not SHIPPED.exists():
        pytest.skip(f'{SHIPPED} is absent')
    import os

    from mmengine.config import Config

    from pyskl.registry import DATASETS
    cfg = Config.fromfile(str(CONFIG))
    cwd = os.getcwd()
    os.chdir(REPO)  # the config's paths are relative to the repository root
    try:
        val = DATASETS.build(cfg.data.val)
        test = DATASETS.build(cfg.data.test)
        item = val[0]
        assert len(val) == 10 * len(CLASSES)
        assert tuple(item['keypoint'].shape) == (1, 2, 32, 25, 3)
        assert val.metainfo['classes'] == CLASSES
        assert tuple(test[0]['keypoint'].shape) == (5, 2, 32, 25, 3)
    finally:
        os.chdir(cwd)


def test_make_demo_data_cli(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('make_demo_data', REPO / 'tools' / 'data' / 'make_demo_data.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(tmp_path), '--num-train', '1', '--num-val', '1', '--seed', '3'])
    data = load_pickle(tmp_path / 'demo_3danno.pkl')
    assert len(data['annotations']) == 2 * len(CLASSES)
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path), '--min-len', '50', '--max-len', '40'])
