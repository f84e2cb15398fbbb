"""Render a skeleton sample as an animated GIF (or MP4 with ffmpeg) with the graph's bones drawn.

    python tools/vis_skeleton.py tools/data/demo/demo_3danno.pkl --frame-dir demo_val_jump_000 --out jump.gif \
        --label-map tools/data/demo/label_map.txt
    python tools/vis_skeleton.py skeleton.npy --layout coco --mode 2d --out sample.mp4

The source is an annotation pickle (pick the sample with --frame-dir or --index)
or an .npy array of shape T x V x C or M x T x V x C. The layout defaults to
the one with V joints (25 nturgb+d, 20 nw-ucla, 18 openpose, 17 coco).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from pyskl.evaluation.metrics import read_class_names
from pyskl.visualization.skeleton import as_mtvc, load_annotation_sample, render_skeleton


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Render a skeleton sequence as an animated GIF or MP4')
    parser.add_argument('source', help='annotation .pkl or .npy (T x V x C or M x T x V x C)')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--frame-dir', help='the sample of the annotation pickle to draw')
    which.add_argument('--index', type=int, help='position of the sample in the annotation list (default 0)')
    parser.add_argument('--out', help='output .gif or .mp4 (default: <frame_dir or file stem>.gif)')
    parser.add_argument('--layout', help='graph layout: nturgb+d, coco, openpose, nw-ucla (default: from V)')
    parser.add_argument('--mode', choices=['auto', '2d', '3d'], default='auto',
                        help='3d view, or 2d front view (default: 3d for 3D keypoints)')
    parser.add_argument('--label-map', help='class names, one a line, to show the label by name')
    parser.add_argument('--fps', type=float, default=15)
    parser.add_argument('--step', type=int, default=1, help='draw every step-th frame')
    return parser.parse_args(argv)


def main(argv=None) -> Path:
    args = parse_args(argv)
    try:
        if args.source.endswith('.npy'):
            if args.frame_dir is not None or args.index is not None:
                raise ValueError('--frame-dir and --index select a sample of an annotation pickle, not of an .npy')
            keypoint = as_mtvc(np.load(args.source, allow_pickle=False), args.source)
            name, title = Path(args.source).stem, Path(args.source).name
        else:
            sample = load_annotation_sample(args.source, args.frame_dir, args.index)
            keypoint = sample['keypoint']
            name = str(sample.get('frame_dir', Path(args.source).stem))
            title = name
            if 'label' in sample:
                label = int(sample['label'])
                names = read_class_names(args.label_map) if args.label_map else None
                title += f' (label {label}: {names[label]})' if names and 0 <= label < len(names) else \
                    f' (label {label})'
        out = args.out or f'{name}.gif'
        path = render_skeleton(keypoint, out, layout=args.layout, mode=args.mode, fps=args.fps, step=args.step,
                               title=title)
    except (ValueError, KeyError, IndexError, OSError, RuntimeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise SystemExit(f'error: {message}') from None
    M, T = keypoint.shape[:2]
    print(f'{path}: {len(range(0, T, args.step))} frames, {M} person(s), {keypoint.shape[2]} joints')
    return path


if __name__ == '__main__':
    main(sys.argv[1:])
