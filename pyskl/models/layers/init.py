"""Weight initialisation for training from scratch, as the original PYSKL's units do it."""
from torch import nn


def init_convs_and_norms(module: nn.Module) -> None:
    """Every 2D convolution in ``module`` Kaiming-normal (fan-out) with zero bias, every BatchNorm
    weight 1 and bias 0 (the starting point of AAGCN's and CTR-GCN's units; each then sets its own
    exceptions)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
