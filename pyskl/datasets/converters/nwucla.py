"""NW-UCLA (Northwestern-UCLA Multiview Action 3D): ``all_sqe/*.json`` -> annotation pickle.

Each JSON file ``aAA_sSS_eEE_vVV.json`` holds ``{"file_name": ..., "skeletons": [T][20][3],
"label": L}`` with L from 1 to 10. A sample becomes ``keypoint`` 1 x T x 20 x 3 float32,
``label`` L - 1, ``frame_dir`` the file stem. Splits: ``xview_train`` (views 1 and 2) and
``xview_val`` (view 3), the standard cross-view protocol.
"""
import json
import re
from pathlib import Path
from typing import Optional

import numpy as np

from ...skeleton import LAYOUTS
from ...utils.progress import Progress
from .common import ConversionReport, PathLike, Skipped, make_annotation_file, write_annotation_file, write_label_map

NUM_JOINTS = LAYOUTS['nw-ucla'].num_node  # 20
# The action numbers of the file names, in label order (a07 and a10 are not part of the set).
NWUCLA_ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
NWUCLA_CLASSES = ('pick up with one hand', 'pick up with two hands', 'drop trash', 'walk around', 'sit down',
                  'stand up', 'donning', 'doffing', 'throw', 'carry')
TRAIN_VIEWS = (1, 2)
VAL_VIEWS = (3, )
NAME_PATTERN = re.compile(r'a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})')


def read_nwucla_json(path: PathLike) -> dict:
    """One NW-UCLA JSON file -> its annotation dict; ``ValueError`` naming file and field if bad."""
    path = Path(path)
    name = path.stem
    match = NAME_PATTERN.fullmatch(name)
    if match is None:
        raise ValueError(f'{path.name}: the name is not aAA_sSS_eEE_vVV')
    action = int(match.group(1))
    try:
        with open(path, encoding='utf-8') as f:
            content = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path.name}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})') from None
    if not isinstance(content, dict):
        raise ValueError(f'{path.name}: expected a JSON object, got {type(content).__name__}')
    for key in ('skeletons', 'label'):
        if key not in content:
            raise ValueError(f'{path.name}: field {key!r} is missing')
    if 'file_name' in content and content['file_name'] != name:
        raise ValueError(f'{path.name}: field "file_name" is {content["file_name"]!r}, not the file stem {name!r}')

    label = content['label']
    if isinstance(label, bool) or not isinstance(label, int) or not 1 <= label <= len(NWUCLA_ACTIONS):
        raise ValueError(f'{path.name}: field "label" must be an integer from 1 to {len(NWUCLA_ACTIONS)}, '
                         f'got {label!r}')
    if action not in NWUCLA_ACTIONS or NWUCLA_ACTIONS[label - 1] != action:
        raise ValueError(f'{path.name}: field "label" is {label} but the name says action a{action:02d}')

    try:
        with np.errstate(over='ignore'):  # a value beyond float32 becomes inf: reported below
            keypoint = np.asarray(content['skeletons'], dtype=np.float32)  # T, V, C
    except (ValueError, TypeError) as err:
        raise ValueError(f'{path.name}: field "skeletons" is not a T x {NUM_JOINTS} x 3 array of numbers '
                         f'({err})') from None
    if keypoint.ndim != 3 or keypoint.shape[0] < 1 or keypoint.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f'{path.name}: field "skeletons" must have shape T x {NUM_JOINTS} x 3 with T >= 1, '
                         f'got {keypoint.shape}')
    if not np.isfinite(keypoint).all():
        frame = int(np.nonzero(~np.isfinite(keypoint).all(axis=(1, 2)))[0][0])
        raise ValueError(f'{path.name}: field "skeletons" has a NaN/inf value in frame {frame}')
    return dict(frame_dir=name, label=label - 1, keypoint=keypoint[None],  # 1, T, 20, 3
                total_frames=keypoint.shape[0])


def nwucla_view(frame_dir: str) -> int:
    return int(NAME_PATTERN.fullmatch(frame_dir).group(4))


def convert_nwucla(all_sqe_dir: PathLike, out_pkl: PathLike, label_map: Optional[PathLike] = None,
                   progress: bool = True) -> ConversionReport:
    """Convert NW-UCLA's ``all_sqe`` folder; write ``out_pkl`` and a label map.

    Args:
        all_sqe_dir: the folder of ``aAA_sSS_eEE_vVV.json`` files.
        out_pkl: the annotation file to write.
        label_map: where to write the 10 class names (default ``nwucla_label_map.txt``
            beside ``out_pkl``).
        progress: show a progress bar on stdout.
    """
    all_sqe_dir = Path(all_sqe_dir)
    if not all_sqe_dir.is_dir():
        raise FileNotFoundError(f'{all_sqe_dir} is not a folder')
    files = sorted(all_sqe_dir.glob('*.json'))
    if not files:
        raise FileNotFoundError(f'no .json files in {all_sqe_dir}')

    report = ConversionReport()
    annotations = []
    bar = Progress(len(files)) if progress else None
    for path in files:
        try:
            anno = read_nwucla_json(path)
        except ValueError as err:
            report.skipped.append(Skipped(path.name, 'malformed', str(err).split(': ', 1)[-1]))
        except OSError as err:
            report.skipped.append(Skipped(path.name, 'unreadable', str(err)))
        else:
            if nwucla_view(anno['frame_dir']) in TRAIN_VIEWS + VAL_VIEWS:
                annotations.append(anno)
            else:
                report.skipped.append(Skipped(path.name, 'bad-view', 'view not in 1, 2, 3'))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()

    names = [a['frame_dir'] for a in annotations]
    split = dict(xview_train=[n for n in names if nwucla_view(n) in TRAIN_VIEWS],
                 xview_val=[n for n in names if nwucla_view(n) in VAL_VIEWS])
    out_pkl = Path(out_pkl)
    report.written.append(write_annotation_file(make_annotation_file(annotations, split), out_pkl))
    label_map = out_pkl.parent / 'nwucla_label_map.txt' if label_map is None else label_map
    report.extra_files.append(write_label_map(NWUCLA_CLASSES, label_map))
    return report
