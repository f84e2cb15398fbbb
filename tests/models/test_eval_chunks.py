"""Eval on CPU in chunks of sequences (``GCNBackbone.forward_blocks``), for every backbone that runs a
stack of blocks: the same logits as the whole batch, only in eval mode, never while tracing, never
for ``impl='reference'``; the chunk size from each block's widest activation.
"""
import pytest
import torch

from impl_check import TOL, model_pair, sample
from pyskl.models import build_model
from pyskl.models.backbones.base import GCNBackbone

SMALL = dict(base_channels=8, num_stages=3, inflate_stages=[3], down_stages=[3])
BACKBONES = {
    'dgstgcn': dict(type='DGSTGCN', graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=4, init_off=.04,
                                                   init_std=.02), gcn_ratio=0.125, **SMALL),
    'stgcn': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'), **SMALL),
    'stgcn++': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), gcn_adaptive='init',
                    gcn_with_res=True, tcn_type='mstcn', **SMALL),
    'stgcn conv_pos post': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
                                gcn_conv_pos='post', **SMALL),
    'ctrgcn': dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), **SMALL),
    'aagcn': dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), **SMALL),
}


def recognizer(backbone: dict):
    """A float64 recognizer with random weights (BatchNorm statistics included)."""
    from impl_check import random_state
    model = build_model(dict(type='RecognizerGCN', backbone=backbone,
                             cls_head=dict(type='GCNHead', num_classes=5, in_channels=16))).double()
    model.load_state_dict(random_state(model))
    return model


def spy_on_chunks(monkeypatch) -> list[int]:
    """The number of sequences of every ``run_blocks`` call."""
    calls = []
    original = GCNBackbone.run_blocks
    monkeypatch.setattr(GCNBackbone, 'run_blocks', staticmethod(
        lambda x, blocks: calls.append(len(x)) or original(x, blocks)))
    return calls


@pytest.mark.parametrize('name', BACKBONES)
def test_chunks_equal_the_whole_batch(name, monkeypatch):
    torch.manual_seed(0)
    model = recognizer(BACKBONES[name]).eval()
    x, y = sample(n=3)  # 6 sequences
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', None)
    with torch.no_grad():
        whole = model(x, mode='tensor')
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', 1)  # one sequence a chunk
    calls = spy_on_chunks(monkeypatch)
    with torch.no_grad():
        chunked = model(x, mode='tensor')
    assert calls == [1] * 6
    torch.testing.assert_close(chunked, whole, atol=TOL, rtol=0)
    calls.clear()
    model.train()  # training mode: BatchNorm's batch statistics mix sequences, no chunks
    model(x, y, mode='loss')
    assert calls == [6]


@pytest.mark.parametrize('name', ['dgstgcn', 'stgcn', 'ctrgcn'])
def test_chunked_fast_path_equals_the_reference_which_runs_whole(name, monkeypatch):
    models = model_pair(BACKBONES[name])
    x, _ = sample(n=3)
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', 1)
    calls = spy_on_chunks(monkeypatch)
    with torch.no_grad():
        reference = models['reference'].eval()(x, mode='tensor')
        assert calls == [6]  # the plain statement: the batch as it is
        chunked = models['fast'].eval()(x, mode='tensor')
    assert calls == [6] + [1] * 6
    torch.testing.assert_close(chunked, reference, atol=TOL, rtol=0)


def test_chunk_size_from_the_widest_activation(monkeypatch):
    """ST-GCN's widest tensor is its spatial unit's subsets side by side: 3 subsets x 16 channels x 8
    frames x 25 joints in the last (inflated) block before its stride halves the frames."""
    backbone = build_model(BACKBONES['stgcn']).eval()
    widest = max(3 * 8 * 8 * 25, 3 * 16 * 8 * 25)
    x = torch.zeros(10, 25, 3, 8)  # N * M, V, C, T after the data BatchNorm
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', 4 * widest * 3)
    assert backbone.eval_chunk(x, backbone.gcn) == 3
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', 4 * widest * 3 - 1)
    assert backbone.eval_chunk(x, backbone.gcn) == 2
    assert backbone.eval_chunk(x.double(), backbone.gcn) == 1
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', 4 * widest * 100)
    assert backbone.eval_chunk(x, backbone.gcn) == 10


@pytest.mark.parametrize('name', ['dgstgcn', 'aagcn'])
def test_no_chunks_while_tracing(name, monkeypatch):
    """A traced (exported) graph runs other batch sizes: no chunk loop is baked into it."""
    monkeypatch.setattr(GCNBackbone, 'cpu_eval_chunk_bytes', 1)
    backbone = recognizer(BACKBONES[name]).backbone.float().eval()
    x2, x5 = (sample(n=n)[0][:, 0].float() for n in (2, 5))
    with torch.no_grad():
        traced = torch.jit.trace(backbone, (x2, ), check_trace=False)
        torch.testing.assert_close(traced(x5), backbone(x5), atol=1e-5, rtol=1e-5)
