"""ONNX and torch.export of a recognizer's network, verified against PyTorch (pyskl.deployment)."""
import numpy as np
import pytest
import torch

from pyskl.apis import init_recognizer
from pyskl.apis.inference import clip_layout
from pyskl.deployment import ExportError, export_recognizer
from pyskl.deployment import export as export_mod

pytest.importorskip('onnxruntime', reason='onnxruntime is not installed (pip install -e ".[deploy]")')
pytest.importorskip('onnx', reason='onnx is not installed (pip install -e ".[deploy]")')

DEMO = 'configs/dgstgcn/demo/j.py'
NTU60_J = 'configs/dgstgcn/ntu60_xsub_3dkp/j.py'
SHAPES = [(1, 1, 100), (3, 2, 64), (1, 2, 64), (3, 1, 100)]  # N, M, T: T 100/64, M 1/2, batch 1/3


def _random_model(config):
    """The config's model with random weights whose scores are O(1), not the near-zero logits of
    a fresh head: BatchNorm statistics and the classifier drawn at random."""
    model = init_recognizer(config)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.normal_(0, 0.1, generator=gen)
                module.running_var.uniform_(0.5, 1.5, generator=gen)
                module.weight.uniform_(0.5, 1.5, generator=gen)
                module.bias.normal_(0, 0.1, generator=gen)
        model.cls_head.fc_cls.weight.normal_(0, 1, generator=gen)
    return model


@pytest.mark.parametrize('config', [NTU60_J, DEMO])
def test_onnx_matches_pytorch(config, tmp_path):
    model = _random_model(config)
    lay = clip_layout(model)
    shapes = [(n, m, t, lay['joints'], lay['channels']) for n, m, t in SHAPES]
    report = export_recognizer(model, str(tmp_path / 'model.onnx'), 'onnx', check_shapes=shapes)
    assert report['example_shape'] == (2, 2, 100 if config == NTU60_J else 32, 25, 3)
    assert set(report['diffs']) == set(shapes)
    assert max(report['diffs'].values()) <= 1e-4, report['diffs']
    # the scores are not trivially small: the check compares real numbers
    run = export_mod.load_exported(str(tmp_path / 'model.onnx'), 'onnx')
    scores = run(np.random.default_rng(1).standard_normal(shapes[1]).astype(np.float32))
    assert scores.shape == (3, model.cls_head.num_classes) and np.abs(scores).max() > 0.1


@pytest.mark.slow
def test_torch_export_matches_pytorch(tmp_path):
    model = _random_model(DEMO)
    report = export_recognizer(model, str(tmp_path / 'model.pt2'), 'torch-export')
    assert max(report['diffs'].values()) <= 1e-5
    assert [s[:3] for s in report['diffs']] == [(1, 1, 49), (3, 3, 21)]  # T and M other than the example's


def test_an_export_that_differs_fails_loudly(tmp_path, monkeypatch):
    model = _random_model(DEMO)
    real = export_mod.load_exported

    def off_by_a_little(path, fmt):
        run = real(path, fmt)
        return lambda x: run(x) + 2e-3

    monkeypatch.setattr(export_mod, 'load_exported', off_by_a_little)
    with pytest.raises(ExportError, match='differs from PyTorch by up to 2.00e-03'):
        export_recognizer(model, str(tmp_path / 'model.onnx'), 'onnx')


def test_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'tflite'"):
        export_recognizer(init_recognizer(DEMO), str(tmp_path / 'm'), 'tflite')
