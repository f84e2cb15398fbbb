"""Validating, on resume, the epoch whose checkpoint was saved just before its validation."""
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from pyskl.registry import HOOKS


@HOOKS.register_module()
class ValidateOnResumeHook(Hook):
    """Run the validation that was due at the resumed epoch before training goes on.

    mmengine saves epoch N's checkpoint at the end of its training, before its validation;
    a run killed during that validation resumes at epoch N + 1, so epoch N would never be
    validated and the best checkpoint could skip it. With this hook, a run resumed from
    epoch N's checkpoint validates epoch N first (again, if the killed run had finished
    it: same model, same score, so the best checkpoint does not change). Without
    validation, or for iteration-based training, it does nothing.
    """

    priority = 'LOWEST'  # after the other hooks' before_train (the checkpoint hook's best-score state)

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if not (runner._has_loaded and runner._resume) or not isinstance(loop, EpochBasedTrainLoop):
            return
        if runner.val_loop is None or loop.epoch == 0:
            return
        loop._decide_current_val_interval()
        epoch = loop.epoch
        if epoch >= loop.val_begin and (epoch % loop.val_interval == 0 or epoch == loop.max_epochs):
            runner.logger.info(f'Validating epoch {epoch} first: its checkpoint was saved before its validation')
            runner.val_loop.run()
