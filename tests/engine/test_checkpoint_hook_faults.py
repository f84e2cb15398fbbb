"""AtomicCheckpointHook when a save fails for lack of space: one line, nothing lost, nothing stale."""
import pytest

from pyskl.models.checkpoint import read_checkpoint
from pyskl.runner import find_resume_checkpoint
from pyskl.engine.checkpoint_hook import AtomicLocalBackend
from pyskl.utils.run_errors import NoSpaceLeftError

BEST = dict(type='AtomicCheckpointHook', interval=1, save_best='auto', rule='greater')


def _disk_full_at(monkeypatch, name: str, nth: int = 1) -> None:
    """Make the ``nth`` write of a file called ``name`` fail with ENOSPC."""
    real_put, seen = AtomicLocalBackend.put, []

    def put(self, obj, filepath):
        if str(filepath).endswith('/' + name):
            seen.append(filepath)
            if len(seen) == nth:
                raise OSError(28, 'No space left on device')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(AtomicLocalBackend, 'put', put)


def test_disk_full_is_one_line_naming_the_last_good_checkpoint(tmp_path, tiny_runner, monkeypatch):
    _disk_full_at(monkeypatch, 'epoch_2.pth')
    runner = tiny_runner(tmp_path, epochs=3, validate=False)
    with pytest.raises(NoSpaceLeftError) as info:
        runner.train()
    assert str(info.value) == (f'No space left on the device of {tmp_path} to save a checkpoint; the last good '
                               f'checkpoint is {tmp_path / "epoch_1.pth"} (intact): free space and run the same '
                               'command again to resume')
    assert read_checkpoint(str(tmp_path / 'epoch_1.pth'))['meta']['epoch'] == 1
    monkeypatch.undo()  # space is back: the same run resumes from it and finishes
    runner = tiny_runner(tmp_path, epochs=3, validate=False, resume=True,
                         load_from=find_resume_checkpoint(str(tmp_path)))
    runner.train()
    assert read_checkpoint(str(tmp_path / 'epoch_3.pth'))['meta']['epoch'] == 3


def test_resume_removes_a_best_checkpoint_of_a_failed_save(tmp_path, tiny_runner, monkeypatch):
    # epoch 3 is a new best (0.58 -> 0.67): best_..._epoch_3.pth is written, then epoch_3.pth is
    # saved again with the new best in it, and that save fails: epoch_3.pth still names epoch 1's best
    _disk_full_at(monkeypatch, 'epoch_3.pth', nth=2)
    with pytest.raises(NoSpaceLeftError):
        tiny_runner(tmp_path, epochs=4, checkpoint=BEST).train()
    assert sorted(p.name for p in tmp_path.glob('best_*.pth')) == ['best_top1_acc_epoch_1.pth',
                                                                    'best_top1_acc_epoch_3.pth']
    monkeypatch.undo()
    runner = tiny_runner(tmp_path, epochs=4, checkpoint=BEST, resume=True,
                         load_from=find_resume_checkpoint(str(tmp_path)))
    runner.train()
    best = sorted(p.name for p in tmp_path.glob('best_*.pth'))
    assert len(best) == 1 and str(tmp_path / best[0]) == runner.message_hub.get_info('best_ckpt')
