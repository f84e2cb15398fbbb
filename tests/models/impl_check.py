"""Fast path against the readable implementation, in float64: the helpers every ``impl`` test uses.

``model_pair`` builds a recognizer twice, with ``impl='reference'`` and ``impl='fast'``, with the same
random weights (every floating entry random, so that no branch is switched off by zeros);
``assert_same`` runs a training step on both and compares the loss, every gradient, the state after
the step (BatchNorm running statistics) and the eval-mode logits to ``TOL``.
"""
import copy

import torch

from pyskl.models import build_model

TOL = 1e-10


def random_state(model: torch.nn.Module, seed: int = 0) -> dict:
    """Every floating entry random (running variances positive), so no branch is switched off by zeros."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, value in model.state_dict().items():
        if not value.is_floating_point():
            state[name] = value
        elif name.endswith('running_var'):
            state[name] = torch.rand(value.shape, generator=g, dtype=value.dtype) + 0.5
        else:
            state[name] = torch.randn(value.shape, generator=g, dtype=value.dtype) * 0.3
    return state


def model_pair(backbone: dict, num_classes: int = 5) -> dict:
    """``{'reference': model, 'fast': model}``: float64 recognizers of ``backbone`` with the same weights."""
    cfg = dict(type='RecognizerGCN', backbone=backbone,
               cls_head=dict(type='GCNHead', num_classes=num_classes, in_channels=build_model(backbone).out_channels))
    models = {}
    for impl in ('reference', 'fast'):
        c = copy.deepcopy(cfg)
        c['backbone']['impl'] = impl
        models[impl] = build_model(c).double()
    state = random_state(models['reference'])
    for model in models.values():
        model.load_state_dict(state)
    return models


def step(model, x, y):
    """Training-mode loss and gradients, the state after the step, eval-mode logits."""
    model.train()
    loss = model(x, y, mode='loss')['loss_cls']
    loss.backward()
    grads = {name: p.grad for name, p in model.named_parameters()}  # None: unused by this option
    state = {name: v.clone() for name, v in model.state_dict().items()}
    model.eval()
    with torch.no_grad():
        logits = model(x, mode='tensor')
    return loss.detach(), grads, state, logits


def assert_same(models, x, y):
    ref, fast = step(models['reference'], x, y), step(models['fast'], x, y)
    torch.testing.assert_close(fast[0], ref[0], atol=TOL, rtol=0)
    assert fast[1].keys() == ref[1].keys()
    for name in ref[1]:
        assert (fast[1][name] is None) == (ref[1][name] is None), name
        if ref[1][name] is not None:
            torch.testing.assert_close(fast[1][name], ref[1][name], atol=TOL, rtol=0, msg=lambda m: f'{name}: {m}')
    assert list(fast[2]) == list(ref[2])
    for name in ref[2]:  # BN running statistics and num_batches_tracked
        torch.testing.assert_close(fast[2][name], ref[2][name], atol=TOL, rtol=0, msg=lambda m: f'{name}: {m}')
    torch.testing.assert_close(fast[3], ref[3], atol=TOL, rtol=0)


def sample(num_person=2, frames=8, joints=25, channels=3, n=2, seed=1, num_classes=5):
    """A float64 batch ``(n, 1, num_person, frames, joints, channels)`` and its labels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, num_person, frames, joints, channels, generator=g, dtype=torch.float64)
    return x, torch.arange(n) % num_classes


def assert_same_over_steps_with_cumulative_bn(models, samples):
    """``assert_same`` over several training steps with ``momentum=None`` (a cumulative average) in every
    BatchNorm: the running statistics the fast path writes back accumulate as the reference's."""
    for model in models.values():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = None
    for x, y in samples:
        assert_same(models, x, y)
        for model in models.values():
            model.zero_grad()


def assert_autocast_close(models, x, y, before_reference=lambda: None):
    """Under bfloat16 autocast (--amp on CPU) both paths run eval and a training step with finite
    gradients, and the fast path's eval logits agree with the reference's as closely as bfloat16 allows:
    within a few times the reference's own bfloat16 error. ``before_reference`` runs before the
    reference model does (e.g. undoing a patch that proves the fast model took the fast path)."""
    outs = {}
    for impl in ('fast', 'reference'):
        model = models[impl].float()
        if impl == 'reference':
            before_reference()
        model.eval()
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
            outs[impl] = model(x.float(), mode='tensor')
        model.train()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = model(x.float(), y, mode='loss')['loss_cls']
        loss.backward()
        assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    with torch.no_grad():
        exact = models['reference'].eval()(x.float(), mode='tensor')
    assert outs['fast'].dtype == outs['reference'].dtype == torch.bfloat16
    bf16_error = (outs['reference'].float() - exact).abs().max()
    assert 0 < bf16_error < 0.05
    assert (outs['fast'].float() - outs['reference'].float()).abs().max() <= 4 * bf16_error


def unit_pair(make, seed: int = 0) -> dict:
    """``{'reference': layer, 'fast': layer}``: float64 layers ``make(impl)`` with the same random weights."""
    units = {impl: make(impl).double() for impl in ('reference', 'fast')}
    state = random_state(units['reference'], seed)
    for unit in units.values():
        unit.load_state_dict(state)
    return units


def unit_step(unit, x, projection):
    """Training-mode output, the gradients of ``(out * projection).sum()`` for the input and every
    parameter, the state after the step, the eval-mode output."""
    unit.train()
    x = x.clone().requires_grad_()
    out = unit(x)
    (out * projection).sum().backward()
    grads = {name: p.grad for name, p in unit.named_parameters()}
    state = {name: v.clone() for name, v in unit.state_dict().items()}
    unit.eval()
    with torch.no_grad():
        evaluated = unit(x.detach())
    return out.detach(), x.grad, grads, state, evaluated


def assert_units_same(units, x, seed: int = 2):
    """``assert_same`` for one layer on ``(N, C, T, V)`` input ``x``: the training-mode output, the input's
    and every parameter's gradient, the running statistics after the step, the eval-mode output."""
    with torch.no_grad():
        shape = units['reference'].eval()(x).shape
    projection = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=x.dtype)
    ref, fast = unit_step(units['reference'], x, projection), unit_step(units['fast'], x, projection)
    for what, r, f in zip(('train output', 'input gradient'), ref[:2], fast[:2]):
        torch.testing.assert_close(f, r, atol=TOL, rtol=0, msg=lambda m: f'{what}: {m}')
    assert fast[2].keys() == ref[2].keys()
    for name in ref[2]:
        assert (fast[2][name] is None) == (ref[2][name] is None), name
        if ref[2][name] is not None:
            torch.testing.assert_close(fast[2][name], ref[2][name], atol=TOL, rtol=0, msg=lambda m: f'{name}: {m}')
    for name in ref[3]:
        torch.testing.assert_close(fast[3][name], ref[3][name], atol=TOL, rtol=0, msg=lambda m: f'{name}: {m}')
    torch.testing.assert_close(fast[4], ref[4], atol=TOL, rtol=0, msg=lambda m: f'eval output: {m}')
