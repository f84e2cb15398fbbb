"""What only a GPU can show: the model, a training step with AMP, and a short training run on CUDA.

Marked ``gpu``: they skip without a CUDA device (``tools/benchmarks/gpu_check.sh`` runs them with
``-m gpu``). Each check is a function of the device, so its logic also runs on the CPU
(``test_checks_run_on_cpu``) and cannot rot unseen between GPU runs.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pyskl.models import build_model

REPO = Path(__file__).resolve().parents[1]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
pytestmark = pytest.mark.gpu

BACKBONE = dict(type='DGSTGCN', graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=8), base_channels=16,
                num_stages=4, inflate_stages=[3], down_stages=[3], gcn_ratio=0.125)


def _model(seed: int = 0):
    torch.manual_seed(seed)
    channels = 32  # base_channels x 2 after the one inflating stage
    return build_model(dict(type='RecognizerGCN', backbone=BACKBONE,
                            cls_head=dict(type='GCNHead', num_classes=7, in_channels=channels)))


def _inputs(batch: int = 3):
    g = torch.Generator().manual_seed(1)
    return torch.randn(batch, 1, 2, 24, 25, 3, generator=g), torch.randint(0, 7, (batch, ), generator=g)


def check_matches_cpu(device: str) -> None:
    """Eval logits and training-mode gradients on ``device`` equal the CPU's (fp32, no TF32)."""
    x, y = _inputs()
    cpu = _model()
    dev = _model().to(device)
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        cpu.eval(), dev.eval()
        with torch.no_grad():
            ref = cpu(x, mode='predict')
            out = dev(x.to(device), mode='predict')
        ref_scores = torch.stack([s['pred_score'] for s in ref])
        out_scores = torch.stack([s['pred_score'] for s in out]).cpu()
        torch.testing.assert_close(out_scores, ref_scores, atol=1e-5, rtol=1e-4)
        cpu.train(), dev.train()
        cpu(x, y, mode='loss')['loss_cls'].backward()
        dev(x.to(device), y.to(device), mode='loss')['loss_cls'].backward()
        for (name, p), q in zip(cpu.named_parameters(), dev.parameters()):
            torch.testing.assert_close(q.grad.cpu(), p.grad, atol=1e-4, rtol=1e-3, msg=lambda m: f'{name}: {m}')
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32


def check_amp_step(device: str) -> None:
    """A few mixed-precision SGD steps (float16 with a gradient scaler on CUDA, bfloat16 on CPU)
    keep the loss and the weights finite, and lower the loss on a fixed batch."""
    x, y = _inputs(4)
    x, y = x.to(device), y.to(device)
    model = _model().to(device).train()
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16
    scaler = torch.amp.GradScaler(device, enabled=dtype == torch.float16)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        with torch.autocast(device, dtype=dtype):
            loss = model(x, y, mode='loss')['loss_cls']
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert losses[-1] < losses[0], losses


def check_train_tool(device: str, tmp_path: Path, amp: bool) -> None:
    """tools/train.py trains the demo for one epoch on ``device`` and tests it."""
    work = tmp_path / 'demo'
    cmd = [sys.executable, 'tools/train.py', 'configs/dgstgcn/demo/j.py', '--seed', '0', '--test-last',
           '--work-dir', str(work), *(['--amp'] if amp else []),
           '--cfg-options', 'total_epochs=1', 'data.workers_per_gpu=0']
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    if device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (work / 'epoch_1.pth').is_file() and (work / 'last_pred.pkl').is_file()


@needs_cuda
def test_model_on_cuda_matches_cpu():
    check_matches_cpu('cuda')


@needs_cuda
def test_amp_training_steps_on_cuda():
    check_amp_step('cuda')


@needs_cuda
@pytest.mark.parametrize('amp', [False, True], ids=['fp32', 'amp'])
def test_train_tool_on_cuda(tmp_path, amp):
    check_train_tool('cuda', tmp_path, amp)


def test_checks_run_on_cpu():
    """The checks' own logic, on the CPU (CPU against CPU; bfloat16 autocast for the AMP step)."""
    check_matches_cpu('cpu')
    check_amp_step('cpu')
