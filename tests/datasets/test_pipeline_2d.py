"""The 2D NTU (HRNet, COCO-17) pipelines of configs/dgstgcn/ntu*_hrnet on small hand-made samples:
PreNormalize2D -> GenSkeFeat(dataset='coco') -> UniformSample -> PoseDecode -> FormatGCNInput(2)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine import Config

from pyskl.datasets import Compose, PoseDataset
from pyskl.models import build_model
from pyskl.utils import dump_pickle

REPO = Path(__file__).resolve().parents[2]
H, W = 100, 200  # img_shape: x' = (x - 100) / 100, y' = (y - 50) / 50


def config(stream: str) -> Config:
    return Config.fromfile(str(REPO / 'configs' / 'dgstgcn' / 'ntu60_xsub_hrnet' / f'{stream}.py'))


def sample_2d(M=2, T=4, dtype=np.float16) -> dict:
    """Person m, frame t, joint v at pixel (100 + 10 t + v, 50 - 5 m) with score 0.5 + 0.1 m:
    normalised x = 0.1 t + 0.01 v, y = -0.1 m."""
    t = np.arange(T)[None, :, None]
    v = np.arange(17)[None, None, :]
    m = np.arange(M)[:, None, None]
    x = np.broadcast_to(100 + 10 * t + v, (M, T, 17))
    y = np.broadcast_to(50 - 5 * m, (M, T, 17))
    keypoint = np.stack([x, y], axis=-1).astype(dtype)
    score = np.broadcast_to(0.5 + 0.1 * m, (M, T, 17)).astype(dtype)
    return dict(frame_dir='S001C001P001R001A001', label=3, total_frames=T, keypoint=keypoint,
                keypoint_score=score, img_shape=(H, W), original_shape=(H, W), test_mode=True, start_index=0)


def expected_joints(M=2, T=4) -> np.ndarray:
    """M x T x 17 x 3 (x, y, score) after PreNormalize2D, in float32 up to float16 rounding."""
    t = np.arange(T)[None, :, None]
    v = np.arange(17)[None, None, :]
    m = np.arange(M)[:, None, None]
    x = np.broadcast_to(0.1 * t + 0.01 * v, (M, T, 17))
    y = np.broadcast_to(-0.1 * m, (M, T, 17))
    s = np.broadcast_to(0.5 + 0.1 * m, (M, T, 17))
    return np.stack([x, y, s], axis=-1)


@pytest.mark.parametrize('stream', ['j', 'b', 'jm', 'bm'])
def test_val_pipeline_values(stream):
    out = Compose(config(stream).val_pipeline)(sample_2d())
    assert sorted(out) == ['keypoint', 'label'] and out['label'] == 3
    kp = out['keypoint'].numpy()
    assert kp.shape == (1, 2, 100, 17, 3) and kp.dtype == np.float32  # clips, M, T, V, C
    j = expected_joints()
    if stream in ('b', 'bm'):  # bone = joint - parent (coco bone_pairs; the root's is zero),
        # score = the mean of the two joints' (the root keeps its own)
        parents = [0, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 0, 0, 11, 12, 13, 14]
        b = j - j[:, :, parents]
        b[..., 2] = (j[..., 2] + j[:, :, parents, 2]) / 2
        j = b
    if stream in ('jm', 'bm'):  # motion over the 4 frames before sampling; the last frame zero
        motion = np.zeros_like(j)
        motion[:, :3, :, :2] = np.diff(j[..., :2], axis=1)
        motion[:, :3, :, 2] = (j[:, :3, :, 2] + j[:, 1:, :, 2]) / 2
        j = motion
    # 4 frames < clip_len 100: the test-mode clip is frames 0, 1, 2, 3, 0, 1, ...
    np.testing.assert_allclose(kp[0], j[:, np.arange(100) % 4], atol=2e-3)


def test_test_pipeline_ten_clips_and_person_count():
    pipeline = Compose(config('j').test_pipeline)
    out = pipeline(sample_2d(M=3, T=300))
    kp = out['keypoint'].numpy()
    assert kp.shape == (10, 2, 100, 17, 3)  # 3 persons -> the first 2
    np.testing.assert_allclose(kp[..., 1], np.broadcast_to([[0.0], [-0.1]], (10, 2, 100)).reshape(10, 2, 100, 1)
                               .repeat(17, -1), atol=1e-3)
    one = pipeline(sample_2d(M=1, T=300))['keypoint'].numpy()
    assert one.shape == (10, 2, 100, 17, 3) and not one[:, 1].any()  # a missing person is zeros
    # each clip takes 100 sorted frames, one from each third of the 300: frame t has x = 0.1 t (joint 0)
    frames = np.round(kp[:, 0, :, 0, 0] / 0.1)
    assert (np.diff(frames, axis=1) > 0).all() and (frames // 3 == np.arange(100)).all()
    np.testing.assert_array_equal(pipeline(sample_2d(M=3, T=300))['keypoint'].numpy(), kp)  # seeded per sample


def test_training_pipeline_draws_frames_in_order():
    out = Compose(config('j').train_pipeline)(dict(sample_2d(T=300), test_mode=False))
    kp = out['keypoint'].numpy()
    assert kp.shape == (1, 2, 100, 17, 3)
    assert (np.diff(kp[0, 0, :, 0, 0]) > 0).all()


def test_dataset_with_the_config_pipeline_feeds_the_model(tmp_path):
    """A 2D annotation file in the original's format through PoseDataset and the j config's model."""
    samples = [dict({k: v for k, v in sample_2d(M=1 + i % 2, T=20 + i).items() if k not in ('test_mode', 'start_index')},
                    frame_dir=f'v{i}', label=i)
               for i in range(3)]
    ann = tmp_path / 'ntu60_hrnet.pkl'
    dump_pickle(dict(split=dict(xsub_val=['v0', 'v2']), annotations=samples), ann)
    cfg = config('j')
    ds = PoseDataset(str(ann), pipeline=cfg.val_pipeline, split='xsub_val', layout='coco', test_mode=True)
    assert len(ds) == 2 and ds.get_data_info(1)['keypoint'].dtype == np.float16
    batch = torch.stack([ds[i]['keypoint'] for i in range(2)])
    model = build_model(cfg.model).eval()
    with torch.no_grad():
        preds = model(batch, mode='predict')
        loss = model.train()(batch, torch.tensor([0, 2]), mode='loss')
    assert [tuple(p['pred_score'].shape) for p in preds] == [(60, ), (60, )]
    assert all(torch.isfinite(p['pred_score']).all() for p in preds)
    assert torch.isfinite(next(iter(loss.values())))
