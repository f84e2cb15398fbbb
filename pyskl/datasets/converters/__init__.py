"""Converters from raw skeleton data to the annotation pickle that ``PoseDataset`` reads.

* ``convert_ntu``: NTU RGB+D 60/120 ``.skeleton`` files (``tools/data/ntu_preproc.py``).
* ``convert_nwucla``: NW-UCLA ``all_sqe/*.json`` (``tools/data/nwucla_preproc.py``).
* ``arrays_to_annotations`` / ``folder_to_annotations``: your own arrays, or a folder of
  ``.npy`` files plus a ``name,label,split`` CSV (``tools/data/arrays_to_anno.py``).
"""
from .arrays import arrays_to_annotations, folder_to_annotations
from .common import ConversionReport, Skipped, Written
from .ntu import SkeletonFormatError, convert_ntu, convert_skeleton_file, read_skeleton, select_bodies
from .nwucla import convert_nwucla, read_nwucla_json

__all__ = [
    'ConversionReport', 'SkeletonFormatError', 'Skipped', 'Written', 'arrays_to_annotations', 'convert_ntu',
    'convert_nwucla', 'convert_skeleton_file', 'folder_to_annotations', 'read_nwucla_json', 'read_skeleton',
    'select_bodies'
]
