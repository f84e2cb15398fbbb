"""The original PYSKL's config files for the GCN zoo run unchanged: ``tools/train.py`` (one short epoch,
validated), ``tools/test.py`` on its checkpoint and the inference API.

``original_configs/`` holds two files per zoo model exactly as the original repository has them
(its paths; a vanilla ST-GCN config and a ``strong_aug`` ST-GCN++ config among them; the
README there says which commit each comes from). Each is written into ``tmp_path`` with only its
``ann_file`` line pointed at a small annotation file in the original's format that the test writes;
the command lines only shorten the run (one epoch over the training split once, 2 samples a batch,
no worker processes).
"""
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from mmengine import Config

from pyskl.apis import inference_recognizer, init_recognizer
from pyskl.utils.safe_pickle import dump_pickle, load_pickle

REPO = Path(__file__).resolve().parents[2]
ORIGINALS = Path(__file__).resolve().parent / 'original_configs'
CONFIGS = sorted(p.relative_to(ORIGINALS).as_posix() for p in ORIGINALS.rglob('*.py'))
SHORTEN = ['total_epochs=1', 'data.train.times=1', 'data.videos_per_gpu=2', 'data.workers_per_gpu=0',
           'log_config.interval=1']
NUM_TRAIN, NUM_VAL = 4, 2


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f'{name}_tool', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _annotations(two_d: bool, splits: tuple[str, str], rng: np.random.Generator) -> dict:
    """Samples in the original's annotation format: NTU 3D joints (25 x 3) or HRNet COCO-17 pixels with
    scores; 1 or 2 persons; 40 to 150 frames (the vanilla recipe pads to 300); labels 0 to 4."""
    annotations, split = [], {}
    for name, count in zip(splits, (NUM_TRAIN, NUM_VAL)):
        split[name] = []
        for i in range(count):
            M, T, V = 1 + (i % 2), int(rng.integers(40, 150)), 17 if two_d else 25
            walk = np.cumsum(rng.normal(scale=0.01, size=(M, T, V, 3)), axis=1)
            keypoint = rng.normal(scale=0.3, size=(M, 1, V, 3)) + walk + (0, 0, 3)
            sample = dict(frame_dir=f'{name}_{i}', label=int(rng.integers(5)), total_frames=T)
            if two_d:
                sample.update(keypoint=(keypoint[..., :2] * 200 + (960, 540)).astype(np.float16),
                              keypoint_score=rng.uniform(0, 1, size=(M, T, V)).astype(np.float16),
                              img_shape=(1080, 1920), original_shape=(1080, 1920))
            else:
                sample['keypoint'] = keypoint.astype(np.float16)
            annotations.append(sample)
            split[name].append(sample['frame_dir'])
    return dict(split=split, annotations=annotations)


def _zoo_model(name: str) -> str:
    """Which zoo model an original config trains (ST-GCN and ST-GCN++ are both type STGCN)."""
    backbone = Config.fromfile(str(ORIGINALS / name)).model.backbone
    if backbone.type == 'STGCN':
        return 'stgcn++' if backbone.get('tcn_type') == 'mstcn' else 'stgcn'
    return backbone.type.lower()


def test_the_originals_are_two_per_zoo_model_with_a_vanilla_and_a_strong_aug_one():
    models = sorted(_zoo_model(name) for name in CONFIGS)
    assert models == sorted(2 * ['stgcn', 'stgcn++', 'aagcn', 'ctrgcn', 'msg3d'])
    assert 'configs/stgcn/stgcn_vanilla_ntu60_xsub_3dkp/j.py' in CONFIGS
    assert 'configs/strong_aug/ntu60_xsub_3dkp/j.py' in CONFIGS


# MS-G3D's runs take over 20 s on 2 cores (its ten test clips of 100 frames a sample); the others 5-15 s
CASES = [pytest.param(name, marks=pytest.mark.slow) if _zoo_model(name) == 'msg3d' else name for name in CONFIGS]


@pytest.mark.parametrize('name', CASES)
def test_original_config_trains_tests_and_infers_unchanged(name, tmp_path):
    text = (ORIGINALS / name).read_text()
    two_d = 'PreNormalize2D' in text
    benchmark = re.search(r"split='(\w+)_train'", text).group(1)
    ann_file = tmp_path / 'tiny.pkl'
    data = _annotations(two_d, (f'{benchmark}_train', f'{benchmark}_val'), np.random.default_rng(0))
    dump_pickle(data, ann_file)
    config = tmp_path / name
    config.parent.mkdir(parents=True)
    lines = text.splitlines(keepends=True)
    changed = [i for i, line in enumerate(lines) if line.startswith('ann_file = ')]
    assert len(changed) == 1
    lines[changed[0]] = f'ann_file = {str(ann_file)!r}\n'
    config.write_text(''.join(lines))
    work = tmp_path / 'work'

    _tool('train').main([str(config), '--validate', '--seed', '0', '--work-dir', str(work), '--cfg-options',
                         *SHORTEN])
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.is_file()
    log = '\n'.join(p.read_text() for p in work.glob('*/*.log'))
    losses = [float(v) for v in re.findall(r'Epoch\(train\).*? loss: ([0-9.]+)', log)]
    assert len(losses) == NUM_TRAIN // 2 and np.isfinite(losses).all()  # one epoch of 2 batches
    assert re.search(r'Epoch\(val\).*top1_acc: [0-9.]+', log)

    out = tmp_path / 'result.pkl'
    _tool('test').main([str(config), str(checkpoint), '--eval', 'top_k_accuracy', '--out', str(out),
                        '--work-dir', str(work)])
    scores = load_pickle(out)
    num_classes = int(re.search(r'num_classes=(\d+)', text).group(1))
    assert len(scores) == NUM_VAL and all(s.shape == (num_classes, ) for s in scores)
    np.testing.assert_allclose([s.sum() for s in scores], 1, atol=1e-5)  # class probabilities over the clips

    model = init_recognizer(str(config), str(checkpoint))
    first = next(a for a in data['annotations'] if a['frame_dir'] == f'{benchmark}_val_0')
    result = inference_recognizer(model, first)
    # the inference API prepares a skeleton as tools/test.py does: the same scores
    np.testing.assert_allclose(result['scores'], scores[0], rtol=1e-5, atol=1e-6)
    assert result['pred_label'] == int(np.argmax(scores[0]))
