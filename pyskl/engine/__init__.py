"""Runner extensions: hooks (``pyskl.registry.HOOKS``) and optimizer wrappers (CPU mixed precision, finite checks)."""
from .amp import CPUAmpOptimWrapper
from .checkpoint_hook import AtomicCheckpointHook
from .curves_hook import TrainingCurvesHook
from .non_finite import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossError
from .random_state_hook import RandomStateHook
from .resume_validation_hook import ValidateOnResumeHook

__all__ = ['AtomicCheckpointHook', 'CPUAmpOptimWrapper', 'TrainingCurvesHook', 'FiniteOptimWrapper',
           'FiniteAmpOptimWrapper', 'NonFiniteLossError', 'RandomStateHook', 'ValidateOnResumeHook']
