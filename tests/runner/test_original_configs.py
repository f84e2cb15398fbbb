"""Config files in the original PYSKL's form, for the GCN zoo, run unchanged: ``tools/train.py`` (one short
epoch, validated), ``tools/test.py`` on its checkpoint and the inference API.

The original keeps every stream's file self-contained (no ``_base_``), indents with tabs, and names its
folders ``<model>_pyskl_<benchmark>``; some of its files carry variants this toolbox's configs do not: the
``strong_aug`` ST-GCN++ recipe (``RandomScale(scale=0.1)`` and ``RandomRot()`` in training) and an earlier
form with ``UniformSample(..., test_mode=True)`` at val and test. Each case below is written in that form
from this toolbox's own joint config (its comments dropped, the stream swapped, the variant applied),
with ``ann_file`` pointed at a small annotation file in the original's format that the test writes; the
command lines only shorten the run (one epoch over the training split once, 2 samples a batch, no worker
processes).
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
#: the original's path -> (this toolbox's joint config it is written from, stream, variant)
ORIGINAL_FORM = {
    'configs/stgcn/stgcn_vanilla_ntu60_xsub_3dkp/j.py': ('stgcn/vanilla_ntu60_xsub_3dkp', 'j', None),
    'configs/stgcn/stgcn_pyskl_ntu120_xset_3dkp/jm.py': ('stgcn/ntu120_xset_3dkp', 'jm', None),
    'configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py': ('stgcn++/ntu60_xsub_3dkp', 'j', None),
    'configs/strong_aug/ntu60_xsub_3dkp/j.py': ('stgcn++/ntu60_xsub_3dkp', 'j', 'strong_aug'),
    'configs/aagcn/aagcn_pyskl_ntu60_xsub_hrnet/j.py': ('aagcn/ntu60_xsub_hrnet', 'j', 'test_mode'),
    'configs/aagcn/aagcn_pyskl_ntu120_xsub_3dkp/b.py': ('aagcn/ntu120_xsub_3dkp', 'b', None),
    'configs/ctrgcn/ctrgcn_pyskl_ntu120_xset_hrnet/bm.py': ('ctrgcn/ntu120_xset_hrnet', 'bm', None),
    'configs/ctrgcn/ctrgcn_pyskl_ntu60_xview_3dkp/jm.py': ('ctrgcn/ntu60_xview_3dkp', 'jm', None),
    'configs/msg3d/msg3d_pyskl_ntu60_xsub_3dkp/j.py': ('msg3d/ntu60_xsub_3dkp', 'j', None),
    'configs/msg3d/msg3d_pyskl_ntu120_xsub_hrnet/b.py': ('msg3d/ntu120_xsub_hrnet', 'b', None),
}
CONFIGS = sorted(ORIGINAL_FORM)


def _replace(text: str, old: str, new: str, count: int | None = None) -> str:
    """``text`` with ``old`` replaced: exactly ``count`` times, or at least once."""
    found = text.count(old)
    assert found == count if count else found > 0, (old, found)
    return text.replace(old, new)


def original_form(name: str) -> str:
    """The text of ``name`` as the original writes such a file (see the module docstring)."""
    source, stream, variant = ORIGINAL_FORM[name]
    lines = (REPO / 'configs' / source / 'j.py').read_text().splitlines()
    text = '\n'.join(re.sub(r'^((?:    )+)', lambda m: '\t' * (len(m.group(1)) // 4), line)
                     for line in lines if not line.lstrip().startswith('#')) + '\n'
    text = _replace(text, "feats=['j']", f"feats=['{stream}']")
    if variant == 'strong_aug':
        text = _replace(text, "train_pipeline = [\n\tdict(type='PreNormalize3D'),\n",
                        "train_pipeline = [\n\tdict(type='PreNormalize3D'),\n\tdict(type='RandomScale', scale=0.1),\n"
                        "\tdict(type='RandomRot'),\n", 1)
    elif variant == 'test_mode':
        for clips in (1, 10):
            text = _replace(text, f'num_clips={clips})', f'num_clips={clips}, test_mode=True)', 1)
    return re.sub(r"work_dir = '.*'", f"work_dir = './work_dirs/{Path(name).parent.relative_to('configs')}/{stream}'",
                  text)


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
    return ORIGINAL_FORM[name][0].split('/')[0]


def test_the_originals_are_two_per_zoo_model_with_a_vanilla_and_a_strong_aug_one():
    models = sorted(_zoo_model(name) for name in CONFIGS)
    assert models == sorted(2 * ['stgcn', 'stgcn++', 'aagcn', 'ctrgcn', 'msg3d'])
    assert 'configs/stgcn/stgcn_vanilla_ntu60_xsub_3dkp/j.py' in CONFIGS
    assert 'configs/strong_aug/ntu60_xsub_3dkp/j.py' in CONFIGS
    for name in CONFIGS:  # in the original's form, with the stream and the variant it names
        text = original_form(name)
        assert '_base_' not in text and '\t' in text
        _, stream, variant = ORIGINAL_FORM[name]
        cfg = Config.fromstring(text, '.py')
        train = cfg.data.train.get('dataset', cfg.data.train)
        pipelines = (train.pipeline, cfg.data.val.pipeline, cfg.data.test.pipeline)
        assert {t['feats'][0] for p in pipelines for t in p if t['type'] == 'GenSkeFeat'} == {stream}
        if variant == 'strong_aug':
            assert [t['type'] for t in train.pipeline[1:3]] == ['RandomScale', 'RandomRot']
        if variant == 'test_mode':
            assert all(t['test_mode'] for p in pipelines[1:] for t in p if t['type'] == 'UniformSample')


# MS-G3D's runs take over 20 s on 2 cores (its ten test clips of 100 frames a sample); the others 5-15 s
CASES = [pytest.param(name, marks=pytest.mark.slow) if _zoo_model(name) == 'msg3d' else name for name in CONFIGS]


@pytest.mark.parametrize('name', CASES)
def test_original_config_trains_tests_and_infers_unchanged(name, tmp_path):
    text = original_form(name)
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
