"""Datasets and data pipelines for skeleton sequences."""
from mmengine.registry import DefaultScope

from pyskl.registry import DATASETS
from . import pose_dataset, transforms  # noqa: F401  (registers PoseDataset and the transforms)
from .pose_dataset import PoseDataset
from .transforms.compose import Compose


def build_dataset(cfg: dict, default_args: dict = None):
    """Build a dataset from a config dict, e.g. ``dict(type='PoseDataset', ann_file=..., pipeline=[...])``.

    Types are looked up in pyskl's DATASETS first, then in mmengine's, so the
    original configs' ``dict(type='RepeatDataset', times=k, dataset=dict(...))``
    (mmengine's ``RepeatDataset``) works, and the inner dataset is built from
    pyskl's registry too.
    """
    with DefaultScope.overwrite_default_scope('pyskl'):
        return DATASETS.build(cfg, default_args=default_args)


__all__ = ['Compose', 'PoseDataset', 'build_dataset']
