"""Weights-only checkpoint reading, resume-point discovery and atomic writes (pyskl.runner.checkpoint, pyskl.models.checkpoint)."""
import io

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from pyskl.models.checkpoint import allow_checkpoint_globals, read_checkpoint
from pyskl.runner.checkpoint import find_resume_checkpoint

RAN = []


class Payload:
    """Something a checkpoint must not be able to build (its reduce would run code)."""

    def __reduce__(self):
        return (RAN.append, ('payload ran', ))


class Reach:
    """Pickles as ``getattr(obj, name)``."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return (getattr, (self.obj, self.name))


def test_runner_checkpoints_load_weights_only(tmp_path, tiny_runner):
    runner = tiny_runner(tmp_path, epochs=1, checkpoint=dict(type='AtomicCheckpointHook', interval=1,
                                                              save_best='auto'))
    runner.train()
    allow_checkpoint_globals()
    for name in ('epoch_1.pth', 'best_top1_acc_epoch_1.pth'):
        path = str(tmp_path / name)
        # every global the file names is allow-listed (torch's own static check) ...
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
        checkpoint = read_checkpoint(path)
        # ... and what mmengine stores comes back as it was
        scalars = checkpoint['message_hub']['log_scalars']
        assert isinstance(scalars['train/lr'], HistoryBuffer)
        assert scalars['train/lr'].current() == pytest.approx(runner.message_hub.get_scalar('train/lr').current())
        assert checkpoint['message_hub']['runtime_info']['best_score'] == runner.message_hub.get_info('best_score')
        assert checkpoint['meta']['epoch'] == 1
    full = read_checkpoint(str(tmp_path / 'epoch_1.pth'))
    assert set(full) >= {'meta', 'state_dict', 'message_hub', 'optimizer', 'param_schedulers'}


def test_numpy_values_in_a_checkpoint(tmp_path):
    path = tmp_path / 'np.pth'
    torch.save(dict(a=np.arange(3, dtype=np.int16), s=np.float64(0.5), d=np.dtype('float32')), path)
    out = read_checkpoint(str(path))
    assert out['a'].tolist() == [0, 1, 2] and out['a'].dtype == np.int16
    assert out['s'] == 0.5 and out['d'] == np.float32


def test_numpy1_checkpoints_name_numpy_core(tmp_path):
    """Checkpoints written under numpy 1.x name numpy.core.multiarray; they load too."""
    buf = io.BytesIO()
    torch.save(dict(a=np.arange(3.0)), buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue().replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
    assert b'numpy.core.multiarray' in data
    path = tmp_path / 'np1.pth'
    path.write_bytes(data)
    assert read_checkpoint(str(path))['a'].tolist() == [0.0, 1.0, 2.0]


def test_code_in_a_checkpoint_is_refused_without_running(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=Payload()), path)
    with pytest.raises(ValueError) as info:
        read_checkpoint(str(path))
    assert str(path) in str(info.value) and 'not a readable checkpoint' in str(info.value)
    assert '\n' not in str(info.value)
    assert RAN == []


def test_getattr_reaches_only_history_buffer_statistics(tmp_path):
    good, bad = tmp_path / 'good.pth', tmp_path / 'bad.pth'
    torch.save(dict(f=Reach(HistoryBuffer, 'mean')), good)
    assert read_checkpoint(str(good))['f'] is HistoryBuffer.mean
    torch.save(dict(f=Reach(HistoryBuffer, 'update')), bad)
    with pytest.raises(ValueError, match='refusing getattr'):
        read_checkpoint(str(bad))
    torch.save(dict(f=Reach(np.ndarray, 'mean')), bad)
    with pytest.raises(ValueError, match='refusing getattr'):
        read_checkpoint(str(bad))


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth does not exist'):
        read_checkpoint(str(tmp_path / 'nope.pth'))
    full = tmp_path / 'full.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(1000))), full)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(full.read_bytes()[:2000])
    with pytest.raises(ValueError, match=r'cut\.pth is not a readable checkpoint'):
        read_checkpoint(str(cut))
    bare = tmp_path / 'list.pth'
    torch.save([1, 2], bare)
    with pytest.raises(ValueError, match='holds a list, not a checkpoint dict'):
        read_checkpoint(str(bare))


def test_find_resume_checkpoint(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) is None
    for name in ('epoch_2.pth', 'epoch_10.pth', 'best_top1_acc_epoch_12.pth', '.epoch_11.pth.abc.tmp'):
        (tmp_path / name).write_bytes(b'x')
    # no record: the highest step (numerically, not by name), never a best_* or temporary file
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    record = tmp_path / 'last_checkpoint'
    record.write_text(str(tmp_path / 'epoch_2.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    record.write_text('/elsewhere/old_work_dir/epoch_2.pth')  # the work dir was moved
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    record.write_text('')  # an empty record (e.g. written by a killed non-atomic writer)
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    record.write_text(str(tmp_path / 'epoch_7.pth'))  # names a file that is gone
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')

