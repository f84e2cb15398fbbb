"""Models: the skeleton graph, DG-STGCN, the GCN head and the recognizer."""
from mmengine.registry import DefaultScope

from ..registry import MODELS
from .backbones import AAGCN, CTRGCN, DGBlock, DGSTGCN, MSG3D, STGCN
from .checkpoint import CheckpointMismatchError, load_checkpoint
from .graph import Graph, get_layout
from .heads import GCNHead
from .recognizers import RecognizerGCN


def build_model(cfg):
    """Build a model (usually a ``RecognizerGCN``) from a config dict or ``mmengine.Config``."""
    with DefaultScope.overwrite_default_scope('pyskl'):
        return MODELS.build(cfg)


__all__ = ['build_model', 'load_checkpoint', 'CheckpointMismatchError', 'Graph', 'get_layout', 'DGBlock',
           'DGSTGCN', 'AAGCN', 'CTRGCN', 'MSG3D', 'STGCN', 'GCNHead', 'RecognizerGCN']
