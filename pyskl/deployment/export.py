"""Export a recognizer's network (backbone + head) to ONNX or ``torch.export``, and verify the file.

The exported network maps ``keypoint`` ``N x M x T x V x C`` (float32) to ``scores``
``N x num_classes`` (the head's logits, as ``model(x, mode='tensor')`` gives per clip),
with batch ``N``, persons ``M`` and frames ``T`` dynamic. Preprocessing (the config's test
pipeline: normalisation, stream, frame sampling into clips) is not in the file: run it
with :func:`pyskl.apis.inference.preprocess` or reproduce it (README, "Use a trained model").

An export is verified before it counts: :func:`verify_export` runs the file (onnxruntime, or
the loaded ``torch.export`` program) on inputs whose ``T`` and ``M`` differ from the export
example and compares with PyTorch.
"""
import os
import warnings
from typing import Sequence

import numpy as np
import torch
from torch import nn

from pyskl.apis.inference import clip_layout

FORMATS = ('onnx', 'torch-export')
WARN_ABOVE = 1e-4  # the goal for the max abs difference to PyTorch
FAIL_ABOVE = 1e-3  # an export that differs more is refused


class ExportError(RuntimeError):
    """The exported file does not reproduce PyTorch's scores."""


class ScoresNet(nn.Module):
    """Backbone + head of a recognizer: ``N x M x T x V x C -> N x num_classes`` logits."""

    def __init__(self, recognizer: nn.Module):
        super().__init__()
        self.backbone = recognizer.backbone
        self.cls_head = recognizer.cls_head

    def forward(self, keypoint: torch.Tensor) -> torch.Tensor:
        return self.cls_head(self.backbone(keypoint))


def _deploy_import(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise ImportError(f'{name} is not installed: pip install -e ".[deploy]" (onnx, onnxruntime)') from None


def fixed_persons(net: nn.Module) -> bool:
    """True when the backbone's data BatchNorm normalises each person on its own ('MVC': AAGCN, CTR-GCN,
    MS-G3D), which fixes the number of persons a clip has."""
    return getattr(net.backbone, 'data_bn_type', None) == 'MVC'


def export_onnx(net: nn.Module, example: torch.Tensor, path: str, opset: int = 17) -> None:
    """``net`` as an ONNX file with dynamic batch, persons (unless :func:`fixed_persons`) and frames
    (TorchScript-based exporter, which needs no onnxscript)."""
    _deploy_import('onnx')
    dynamic = {0: 'batch', 2: 'frames'} if fixed_persons(net) else {0: 'batch', 1: 'persons', 2: 'frames'}
    with warnings.catch_warnings():  # the shape checks in forward are constants for the tracer: expected
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(net, (example, ), path, dynamo=False, opset_version=opset, input_names=['keypoint'],
                          output_names=['scores'],
                          dynamic_axes={'keypoint': dynamic, 'scores': {0: 'batch'}})


def export_torch(net: nn.Module, example: torch.Tensor, path: str) -> None:
    """``net`` as a ``torch.export`` program (``.pt2``) with dynamic batch, persons (unless
    :func:`fixed_persons`) and frames."""
    dynamic = torch.export.Dim.DYNAMIC
    dims = {0: dynamic, 2: dynamic} if fixed_persons(net) else {0: dynamic, 1: dynamic, 2: dynamic}
    program = torch.export.export(net, (example, ), dynamic_shapes={'keypoint': dims})
    torch.export.save(program, path)


def load_exported(path: str, fmt: str):
    """A callable ``numpy N x M x T x V x C -> numpy scores`` running the exported file."""
    if fmt == 'onnx':
        ort = _deploy_import('onnxruntime')
        session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
        return lambda x: session.run(None, {'keypoint': np.ascontiguousarray(x, dtype=np.float32)})[0]
    program = torch.export.load(path).module()
    return lambda x: program(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).detach().numpy()


def verify_export(net: nn.Module, path: str, fmt: str, shapes: Sequence[tuple], seed: int = 0) -> list[float]:
    """The max abs difference between the file's and PyTorch's scores, for each input shape
    (random normal inputs)."""
    run = load_exported(path, fmt)
    rng = np.random.default_rng(seed)
    diffs = []
    for shape in shapes:
        x = rng.standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            expected = net(torch.from_numpy(x)).numpy()
        got = run(x)
        if got.shape != expected.shape:
            raise ExportError(f'{path}: scores of shape {got.shape} for input {shape}, PyTorch gives {expected.shape}')
        diffs.append(float(np.abs(got - expected).max()))
    return diffs


def export_recognizer(model, path: str, fmt: str = 'onnx', check_shapes: Sequence[tuple] | None = None) -> dict:
    """Export ``model``'s network (see the module docstring) to ``path`` and verify it.

    The export example is ``2 x persons x frames x V x C`` of the test pipeline; unless
    ``check_shapes`` are given, the check runs batch 1 and 3 with other person and frame
    counts. Raises :class:`ExportError` when a difference exceeds ``FAIL_ABOVE``.
    Returns ``dict(path, format, example_shape, diffs={shape: max abs diff})``.
    """
    if fmt not in FORMATS:
        raise ValueError(f'unknown export format {fmt!r}: choose one of {list(FORMATS)}')
    net = ScoresNet(model).eval()
    lay = clip_layout(model)
    M, T, V, C = lay['persons'], lay['frames'], lay['joints'], lay['channels']
    example = torch.zeros(2, M, T, V, C)
    if check_shapes is None:
        other_m = (M, M) if fixed_persons(net) else (1 if M > 1 else 2, M + 1)
        check_shapes = [(1, other_m[0], T + 17, V, C), (3, other_m[1], max(8, T * 2 // 3), V, C)]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if fmt == 'onnx':
        export_onnx(net, example, path)
    else:
        export_torch(net, example, path)
    diffs = verify_export(net, path, fmt, check_shapes)
    report = dict(path=path, format=fmt, example_shape=tuple(example.shape),
                  diffs={tuple(s): d for s, d in zip(check_shapes, diffs)})
    worst = max(diffs)
    if worst > FAIL_ABOVE:
        raise ExportError(f'{path}: the exported network differs from PyTorch by up to {worst:.2e} (above '
                          f'{FAIL_ABOVE:g}) on inputs {list(check_shapes)}; do not use this file')
    return report
