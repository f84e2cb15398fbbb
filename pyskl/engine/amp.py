"""bfloat16 mixed precision for training on CPUs.

mmengine's ``AmpOptimWrapper`` only runs where CUDA (or an NPU/MLU) is; this wrapper autocasts the
training step to bfloat16 on CPU. bfloat16 has float32's exponent range, so no loss scaling.
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from ..registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward passes run under ``torch.autocast('cpu', torch.bfloat16)``."""

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield
