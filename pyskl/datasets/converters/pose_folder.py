"""A folder of per-video pose-estimator outputs plus a ``name,label,split`` CSV -> 2D annotation pickle.

Each CSV row's ``name`` is found in the folder as ``NAME.json`` (mmpose
``--save-predictions``) or as a folder ``NAME/`` of OpenPose ``--write_json``
frame files, read by :mod:`.pose_json` (persons ranked by mean score per frame,
nothing tracked) and mapped to ``layout``. A video that is missing, unreadable or
has no person in any frame is skipped and reported, as are the persons beyond
``max_person`` (counted) and the outputs the CSV does not list.
"""
from pathlib import Path
from typing import Optional

import numpy as np

from .arrays import arrays_to_annotations, read_labels_csv
from .common import ConversionReport, PathLike, Skipped, write_annotation_file
from .pose_json import read_mmpose_json, read_openpose_folder, to_layout

LAYOUT_JOINTS = {'coco': 17, 'openpose': 18}


def read_video(path: Path, layout: str, max_person: int) -> tuple[dict, int]:
    """One video's sample (``keypoint`` M x T x V x 2, ``keypoint_score``) in ``layout``, and how
    many persons beyond ``max_person`` were left out of their frames."""
    sample = read_openpose_folder(path) if path.is_dir() else read_mmpose_json(path)
    sample = to_layout(sample, layout, LAYOUT_JOINTS[layout])
    present = (sample['keypoint_score'] > 0).any(axis=2).sum(axis=0)  # M x T x V -> persons a frame
    dropped = int(np.clip(present - max_person, 0, None).sum())
    return sample, dropped


def pose_json_to_annotations(input_dir: PathLike, labels_csv: PathLike, out_pkl: Optional[PathLike],
                             img_shape: tuple, layout: str = 'coco', max_person: int = 10,
                             num_classes: Optional[int] = None, report: Optional[ConversionReport] = None,
                             dtype=np.float32) -> dict:
    """Build (and optionally write) the 2D annotation dict; skips are added to ``report``.

    Raises:
        ValueError / FileNotFoundError: the folder or CSV is unusable, or no video is left.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f'{input_dir} is not a folder')
    if layout not in LAYOUT_JOINTS:
        raise ValueError(f'layout must be one of {sorted(LAYOUT_JOINTS)}, got {layout!r}')
    if isinstance(max_person, bool) or not isinstance(max_person, int) or max_person < 1:
        raise ValueError(f'max_person must be a positive integer, got {max_person!r}')
    report = report if report is not None else ConversionReport(count_only_kinds=())
    samples, listed, dropped = [], set(), 0
    for line, name, label, split in read_labels_csv(labels_csv):
        if name in listed:
            raise ValueError(f'{labels_csv}, row {line}: field "name" {name!r} is listed twice')
        listed.add(name)
        candidates = [input_dir / f'{name}.json', input_dir / name]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            report.skipped.append(Skipped(name, 'missing', f'neither {candidates[0]} nor the folder {candidates[1]}'))
            continue
        try:
            sample, lost = read_video(path, layout, max_person)
        except (ValueError, FileNotFoundError) as err:  # unreadable, malformed, no person in any frame
            report.skipped.append(Skipped(name, 'unreadable', str(err)))
            continue
        dropped += lost
        # M x T x V x 2 (+ M x T x V) -> M x T x V x 3, the best max_person persons of each frame
        skeleton = np.concatenate([sample['keypoint'], sample['keypoint_score'][..., None]], axis=-1)
        samples.append((name, skeleton[:max_person], label, split))
    for path in sorted(input_dir.iterdir()):
        stem = path.stem if path.suffix == '.json' else path.name
        if stem not in listed:
            report.skipped.append(Skipped(path.name, 'not-in-csv', f'{Path(labels_csv).name} has no row for it'))
    if not samples:
        raise ValueError(f'{input_dir}: no video could be converted ({len(report.skipped)} skipped)')
    content = arrays_to_annotations(samples, num_classes=num_classes, img_shape=tuple(img_shape), score_last=True,
                                    dtype=dtype)
    if dropped:
        report.notes.append(f'{dropped} person(s) beyond max_person={max_person} left out of their frames')
    if out_pkl is not None:
        report.written.append(write_annotation_file(content, out_pkl))
    return content
