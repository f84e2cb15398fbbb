"""Looking at skeleton data: animated renderings with the graph's bones."""
from .skeleton import as_mtvc, infer_layout, load_annotation_sample, render_skeleton

__all__ = ['as_mtvc', 'infer_layout', 'load_annotation_sample', 'render_skeleton']
