"""Skeleton layouts shared by the data, the model and the visualiser (see :mod:`.layouts`)."""
from .layouts import LAYOUT_BY_JOINTS, LAYOUTS, Layout, get_layout, layout_by_joints

__all__ = ['LAYOUT_BY_JOINTS', 'LAYOUTS', 'Layout', 'get_layout', 'layout_by_joints']
