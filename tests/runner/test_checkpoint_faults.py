"""Checkpoints that cannot be used: auto-resume past a truncated one; one line for one with code in it."""
import os

import pytest
import torch
from mmengine.config import Config

from pyskl.models.checkpoint import read_checkpoint
from pyskl.runner import checkpoint as checkpoint_module
from pyskl.runner import find_resume_checkpoint, prepare_train_config
from tiny_runner import tiny_runner_kwargs


def _checkpoints(work, *epochs):
    for epoch in epochs:
        torch.save(dict(meta=dict(epoch=epoch), state_dict={'w': torch.ones(100)}), work / f'epoch_{epoch}.pth')
    (work / 'last_checkpoint').write_text(str(work / f'epoch_{epochs[-1]}.pth'))


def test_a_truncated_latest_checkpoint_falls_back_to_the_newest_readable(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(checkpoint_module, 'print_log', lambda msg, **kwargs: logged.append(msg))
    _checkpoints(tmp_path, 1, 2, 3)
    for name in ('epoch_3.pth', 'epoch_2.pth'):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[:len(data) // 2])  # e.g. copied from a full disk
    assert find_resume_checkpoint(str(tmp_path), readable=True) == str(tmp_path / 'epoch_1.pth')
    message, = logged
    assert message.startswith(f'Resuming from {tmp_path / "epoch_1.pth"}, the newest readable checkpoint; skipped: '
                              f'{tmp_path / "epoch_3.pth"} is not a readable checkpoint (')
    assert f'{tmp_path / "epoch_2.pth"} is not a readable checkpoint' in message
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_3.pth')  # without the check


def test_training_resumes_from_the_newest_readable(tmp_path):
    _checkpoints(tmp_path, 1, 2)
    (tmp_path / 'epoch_2.pth').write_bytes(b'')
    cfg = prepare_train_config(Config(tiny_runner_kwargs(tmp_path, validate=False)), work_dir=str(tmp_path))
    assert cfg.resume is True and cfg.load_from == str(tmp_path / 'epoch_1.pth')


def test_no_readable_checkpoint_is_one_line(tmp_path):
    _checkpoints(tmp_path, 1)
    (tmp_path / 'epoch_1.pth').write_bytes(b'PK\x03\x04')
    with pytest.raises(ValueError, match=rf'^no checkpoint in {tmp_path} is readable \(.*epoch_1.pth is not a '
                                         r'readable checkpoint.*\); resume from another with --resume CKPT'):
        find_resume_checkpoint(str(tmp_path), readable=True)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ('true', ))


def test_a_checkpoint_with_code_names_the_cause_in_one_line(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=_RunsCode()), path)  # torch's zip format, as a shared file would be
    with pytest.raises(ValueError) as info:
        read_checkpoint(str(path))
    message = str(info.value)
    assert message == (f'{path} is not a readable checkpoint (it holds more than weights and plain data: Trying to '
                       'load unsupported GLOBAL posix.system whose module posix is blocked; pyskl loads checkpoints '
                       'weights-only and runs no code from them)')
    assert 'weights_only` set to `False' not in message  # torch's advice would run the code
