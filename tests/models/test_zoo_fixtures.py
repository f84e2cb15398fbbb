"""The GCN zoo against the numbers of the original PYSKL (../shared/fixtures, see its README).

One parametrized set of checks for ST-GCN, ST-GCN++, AAGCN, CTR-GCN and MS-G3D, each with the model
dict of the original's NTU60 XSub 3D-joint config (the README's "Model dict"):
- the state dict: the same entries, shapes and dtypes in the same order, and the parameter count;
- the graphs as built: every graph buffer or parameter starts as the fixture's ``graph_A``, and every
  graph buffer sums as the original's (``buffer_sums``);
- float32: eval-mode logits, test probabilities (softmax per clip, mean over clips), training-mode
  logits and loss, to 1e-5;
- float64 (the filled float32 weights and the inputs cast): loss to 1e-10 and every gradient norm to
  1e-8 relative, except the norms that are zero in exact arithmetic (below 1e-9 in the fixture).
"""
import json

import numpy as np
import pytest
import torch

from fixture_weights import set_fixture_weights
from pyskl.models import build_model

_HEAD = dict(type='GCNHead', num_classes=60, in_channels=256)
ZOO = {
    'stgcn': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial')),
    'stgcnpp': dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
                    graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    'aagcn': dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    'ctrgcn': dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    'msg3d': dict(type='MSG3D', graph_cfg=dict(layout='nturgb+d', mode='binary_adj')),
}
HEAD_CHANNELS = {'msg3d': 384}


def zoo_model_cfg(name: str) -> dict:
    head = dict(_HEAD, in_channels=HEAD_CHANNELS.get(name, 256))
    return dict(type='RecognizerGCN', backbone=dict(ZOO[name]), cls_head=head)


def reference(name: str):
    from shared_data import shared_path
    base = shared_path('fixtures')
    meta = json.loads((base / f'{name}_ntu60_j-seed0.json').read_text())
    return meta, dict(np.load(base / f'{name}_ntu60_j-seed0.npz'))


def filled_model(name: str) -> torch.nn.Module:
    model = build_model(zoo_model_cfg(name))
    set_fixture_weights(model)
    return model


@pytest.mark.parametrize('name', list(ZOO))
def test_state_dict_matches_manifest(name):
    meta, _ = reference(name)
    model = build_model(zoo_model_cfg(name))
    ours = [[k, list(v.shape), str(v.dtype).replace('torch.', '')] for k, v in model.state_dict().items()]
    assert ours == meta['state_dict']
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == meta['num_params']


@pytest.mark.parametrize('name', list(ZOO))
def test_graphs_as_built(name):
    meta, ref = reference(name)
    state = build_model(zoo_model_cfg(name)).state_dict()
    for key, expected in meta['buffer_sums'].items():
        assert state[key].double().sum().item() == pytest.approx(expected, rel=1e-6), key
    graph = ref['graph_A']
    graphs = [k for k, v in state.items() if k.split('.')[-1] == 'A' and tuple(v.shape) in (graph.shape, graph.shape[1:])]
    assert graphs, 'no graph in the state dict'
    for key in graphs:
        np.testing.assert_allclose(state[key].numpy().reshape(graph.shape), graph, atol=1e-6, err_msg=key)


@pytest.mark.parametrize('name', list(ZOO))
def test_eval_logits_and_test_probabilities(name):
    _, ref = reference(name)
    model = filled_model(name).eval()
    x = torch.from_numpy(ref['x_test'])
    with torch.no_grad():
        logits = model(x, mode='tensor')
        preds = model(x, mode='predict')
    np.testing.assert_allclose(logits.numpy(), ref['test_logits'], atol=1e-5, rtol=1e-5)
    prob = torch.stack([p['pred_score'] for p in preds]).numpy()
    np.testing.assert_allclose(prob, ref['test_prob'], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('name', list(ZOO))
def test_training_logits_and_loss_float32(name):
    _, ref = reference(name)
    model = filled_model(name).train()
    x, y = torch.from_numpy(ref['x_train']), torch.from_numpy(ref['y_train'])
    logits = model(x, mode='tensor')
    np.testing.assert_allclose(logits.detach().numpy(), ref['train_logits'], atol=1e-5, rtol=1e-5)
    loss = model(x, y, mode='loss')['loss_cls']
    assert loss.item() == pytest.approx(float(ref['train_loss']), abs=1e-5, rel=1e-5)


@pytest.mark.parametrize('name', list(ZOO))
def test_training_step_float64(name):
    meta, ref = reference(name)
    model = filled_model(name).double().train()
    x = torch.from_numpy(ref['x_train']).double()
    y = torch.from_numpy(ref['y_train'])
    loss = model(x, y, mode='loss')['loss_cls']
    loss.backward()
    assert loss.item() == pytest.approx(float(ref['train_loss_float64']), rel=1e-10)
    grads = {n: p.grad.norm().item() for n, p in model.named_parameters()}
    assert set(grads) == set(meta['grad_norm_float64'])
    compared = 0
    for key, expected in meta['grad_norm_float64'].items():
        if expected < 1e-9:  # zero in exact arithmetic: rounding noise in both
            assert grads[key] < 1e-9, key
            continue
        assert grads[key] == pytest.approx(expected, rel=1e-8), key
        compared += 1
    assert compared > len(grads) // 2
