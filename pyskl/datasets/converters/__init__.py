"""Converters from raw skeleton data to the annotation pickle that ``PoseDataset`` reads.

* ``convert_ntu``: NTU RGB+D 60/120 ``.skeleton`` files (``tools/data/ntu_preproc.py``).
* ``convert_nwucla``: NW-UCLA ``all_sqe/*.json`` (``tools/data/nwucla_preproc.py``).
* ``arrays_to_annotations`` / ``folder_to_annotations``: your own arrays, or a folder of
  ``.npy`` files plus a ``name,label,split`` CSV (``tools/data/arrays_to_anno.py``).
* ``pose_json_to_annotations``: mmpose / OpenPose JSON outputs, one per video, plus
  that CSV (``tools/data/pose_json_to_anno.py``); the readers are in ``pose_json``.
"""
from .arrays import arrays_to_annotations, folder_to_annotations
from .common import ConversionReport, Skipped, Written
from .ntu import SkeletonFormatError, convert_ntu, convert_skeleton_file, read_skeleton, select_bodies
from .nwucla import convert_nwucla, read_nwucla_json
from .pose_folder import pose_json_to_annotations

__all__ = [
    'ConversionReport', 'SkeletonFormatError', 'Skipped', 'Written', 'arrays_to_annotations', 'convert_ntu',
    'convert_nwucla', 'convert_skeleton_file', 'folder_to_annotations', 'pose_json_to_annotations',
    'read_nwucla_json', 'read_skeleton', 'select_bodies'
]
