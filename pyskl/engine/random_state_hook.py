"""Random generator states in the checkpoint, so that a resumed run draws what the uninterrupted one drew."""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank
from mmengine.hooks import Hook

from pyskl.registry import HOOKS

STATE_KEY = 'random_states'


def _pipeline_transforms(dataset) -> list:
    """The transforms of a dataset's pipeline (through RepeatDataset, ConcatDataset and the like)."""
    found = []
    pipeline = getattr(dataset, 'pipeline', None)
    found.extend(getattr(pipeline, 'transforms', None) or [])
    if hasattr(dataset, 'dataset'):
        found.extend(_pipeline_transforms(dataset.dataset))
    for inner in getattr(dataset, 'datasets', None) or []:
        found.extend(_pipeline_transforms(inner))
    return found


def collect_random_states(dataset=None) -> dict:
    """This process's generator states: Python's, numpy's and torch's global ones, and the
    training transforms' own (``LocalRandomMixin``), in pipeline order."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    if dataset is not None:
        states['transforms'] = [t.get_rng_state() if hasattr(t, 'get_rng_state') else None
                                for t in _pipeline_transforms(dataset)]
    return states


def restore_random_states(states: dict, dataset=None) -> None:
    """Put back what :func:`collect_random_states` returned."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])
    if dataset is not None and states.get('transforms') is not None:
        transforms = _pipeline_transforms(dataset)
        if len(transforms) != len(states['transforms']):
            raise ValueError(f'the checkpoint holds random states of {len(states["transforms"])} training '
                             f'transforms, the pipeline has {len(transforms)}: was the pipeline changed?')
        for transform, state in zip(transforms, states['transforms']):
            if state is not None and hasattr(transform, 'set_rng_state'):
                transform.set_rng_state(state)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves every process's generator states in each checkpoint and restores them on resume.

    The states are those at the end of the epoch's training (before its validation; an
    epoch's checkpoint may be saved again after it, when the best score changes), and a
    resumed run restores them when training starts. With ``ValidateOnResumeHook`` and
    ``--deterministic`` (which also makes the DataLoader workers non-persistent, so that each
    epoch's workers are seeded from the restored torch state), a run killed at any moment
    and resumed ends with the same weights as one that never stopped.
    """

    priority = 'VERY_HIGH'  # snapshot before the checkpoint hook saves; restore before any hook draws

    def __init__(self):
        self._snapshot = None  # every rank's states at the end of the last epoch's training
        self._resumed = None

    @staticmethod
    def _dataset(runner):
        loop = runner.train_loop
        return getattr(getattr(loop, 'dataloader', None), 'dataset', None)

    def after_train_epoch(self, runner) -> None:
        self._snapshot = all_gather_object(collect_random_states(self._dataset(runner)))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._snapshot
        if states is None:  # e.g. an iteration-based save: the states now
            states = all_gather_object(collect_random_states(self._dataset(runner)))
        checkpoint[STATE_KEY] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner._resume and STATE_KEY in checkpoint:
            self._resumed = checkpoint[STATE_KEY]

    def before_train(self, runner) -> None:
        if self._resumed is None:
            return
        states, self._resumed = self._resumed, None
        rank = get_rank()
        if rank >= len(states):
            runner.logger.warning(f'the checkpoint holds random states of {len(states)} process(es); this is '
                                  f'process {rank}: its draws start afresh')
            return
        restore_random_states(states[rank], self._dataset(runner))
        runner.logger.info('Restored the random generator states of the checkpoint')
