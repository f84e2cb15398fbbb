"""``Compose``: a pipeline built from config dicts (or ready callables)."""
from typing import Callable, Optional, Sequence, Union

from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS


@TRANSFORMS.register_module()
class Compose(BaseTransform):
    """Apply transforms in order. A transform returning None drops the sample:
    the pipeline stops and returns None.

    Args:
        transforms: each a config dict ``dict(type='Name', **args)`` built from
            the ``TRANSFORMS`` registry, or any callable taking and returning a dict.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]]):
        if isinstance(transforms, (dict, str)) or not isinstance(transforms, Sequence):
            raise TypeError(f'Compose: transforms must be a list of config dicts or callables, '
                            f'got {type(transforms).__name__}')
        self.transforms = []
        for i, t in enumerate(transforms):
            if isinstance(t, dict):
                if 'type' not in t:
                    raise KeyError(f'Compose: transform {i} {t!r} has no "type"')
                t = TRANSFORMS.build(t)
            if not callable(t):
                raise TypeError(f'Compose: transform {i} must be a config dict or a callable, '
                                f'got {type(t).__name__}')
            self.transforms.append(t)

    def transform(self, results: dict) -> Optional[dict]:
        for t in self.transforms:
            results = t(results)
            if results is None:
                return None
        return results

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index):
        return self.transforms[index]

    def __repr__(self) -> str:
        inner = ''.join(f'\n    {t!r},' for t in self.transforms)
        return f'Compose([{inner}\n])'
