"""Runner extensions: hooks (``pyskl.registry.HOOKS``) and the CPU mixed-precision optimizer wrapper."""
from .amp import CPUAmpOptimWrapper
from .checkpoint_hook import AtomicCheckpointHook
from .curves_hook import TrainingCurvesHook
from .non_finite import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossError

__all__ = ['AtomicCheckpointHook', 'CPUAmpOptimWrapper', 'TrainingCurvesHook', 'FiniteOptimWrapper',
           'FiniteAmpOptimWrapper', 'NonFiniteLossError']
