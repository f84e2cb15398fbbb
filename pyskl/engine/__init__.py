"""Runner extensions: hooks registered in ``pyskl.registry.HOOKS``."""
from .checkpoint_hook import AtomicCheckpointHook
from .curves_hook import TrainingCurvesHook

__all__ = ['AtomicCheckpointHook', 'TrainingCurvesHook']
