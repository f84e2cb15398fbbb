"""Converters from raw skeleton data to the annotation pickle that ``PoseDataset`` reads.

* ``convert_ntu``: NTU RGB+D 60/120 ``.skeleton`` files (``tools/data/ntu_preproc.py``).
* ``convert_nwucla``: NW-UCLA ``all_sqe/*.json`` (``tools/data/nwucla_preproc.py``).
* ``arrays_to_annotations`` / ``folder_to_annotations``: your own arrays, or a folder of
  ``.npy`` files plus a ``name,label,split`` CSV (``tools/data/arrays_to_anno.py``).
* ``read_mmpose_json`` / ``read_openpose_folder``: 2D pose-estimator output, persons kept by
  score per frame; ``to_layout`` maps OpenPose's joints to the model's layout.
* ``pose_json_to_annotations``: such outputs, one per video, plus a ``name,label,split`` CSV
  (``tools/data/pose_json_to_anno.py``).
* ``convert_kinetics_skeleton``: ST-GCN's Kinetics-Skeleton JSON (``tools/data/kinetics_skeleton_preproc.py``).
* ``convert_babel``: BABEL-60/120's NTU-25 arrays and label pickles (``tools/data/babel_preproc.py``).
* ``convert_smarthome``: Toyota Smarthome's LCR-Net++ JSON (``tools/data/smarthome_preproc.py``).
"""
from .arrays import arrays_to_annotations, folder_to_annotations
from .babel import convert_babel
from .common import ConversionReport, Skipped, Written
from .kinetics_skeleton import convert_kinetics_skeleton
from .ntu import SkeletonFormatError, convert_ntu, convert_skeleton_file, read_skeleton, select_bodies
from .nwucla import convert_nwucla, read_nwucla_json
from .pose_folder import pose_json_to_annotations
from .pose_json import keep_best_persons, read_mmpose_json, read_openpose_folder, to_layout
from .toyota_smarthome import convert_smarthome

__all__ = [
    'ConversionReport', 'SkeletonFormatError', 'Skipped', 'Written', 'arrays_to_annotations', 'convert_babel',
    'convert_kinetics_skeleton', 'convert_ntu', 'convert_nwucla', 'convert_smarthome', 'convert_skeleton_file',
    'folder_to_annotations', 'keep_best_persons', 'pose_json_to_annotations', 'read_mmpose_json', 'read_nwucla_json',
    'read_openpose_folder', 'read_skeleton', 'select_bodies', 'to_layout'
]
