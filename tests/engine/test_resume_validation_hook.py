"""A run stopped during epoch N's validation validates epoch N on resume (ValidateOnResumeHook)."""
import pytest
from mmengine.hooks import Hook

from pyskl.runner import find_resume_checkpoint


class Recorder(Hook):
    """Records the epochs validated; stops the run, as a kill would, in the validation of ``stop_at``."""

    def __init__(self, stop_at=None):
        self.validated, self.stop_at = [], stop_at

    def before_val_epoch(self, runner):
        if runner.epoch == self.stop_at:
            raise KeyboardInterrupt  # the checkpoint of epoch `stop_at` is saved; its validation is not done

    def after_val_epoch(self, runner, metrics=None):
        self.validated.append(runner.epoch)


@pytest.mark.parametrize('stop_at', [2, 3])  # mid-training, and the last epoch's validation
def test_the_interrupted_validation_runs_on_resume(tmp_path, tiny_runner, stop_at):
    first = Recorder(stop_at=stop_at)
    with pytest.raises(KeyboardInterrupt):
        tiny_runner(tmp_path, epochs=3, custom_hooks=[first, dict(type='ValidateOnResumeHook')]).train()
    assert first.validated == list(range(1, stop_at))
    again = Recorder()
    tiny_runner(tmp_path, epochs=3, custom_hooks=[again, dict(type='ValidateOnResumeHook')], resume=True,
                load_from=find_resume_checkpoint(str(tmp_path))).train()
    assert again.validated == list(range(stop_at, 4))


def test_a_fresh_run_is_not_validated_first(tmp_path, tiny_runner):
    recorder = Recorder()
    tiny_runner(tmp_path, epochs=2, custom_hooks=[recorder, dict(type='ValidateOnResumeHook')]).train()
    assert recorder.validated == [1, 2]
