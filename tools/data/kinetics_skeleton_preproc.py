"""Kinetics-Skeleton (ST-GCN's OpenPose release) -> an annotation pickle in the openpose layout.

Usage: python tools/data/kinetics_skeleton_preproc.py SRC OUT.pkl
"""
import argparse
import sys

from pyskl.datasets.converters.kinetics_skeleton import MAX_FRAMES, MAX_PERSON, convert_kinetics_skeleton


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert Kinetics-Skeleton (one JSON file a clip, as released with ST-GCN) into an annotation '
        'file with the splits train and val, 18 OpenPose joints (x, y in pixels of the 340 x 256 frames, and a '
        'score), the two best-scored persons of each frame and at most 300 frames, plus a label map. Bad or '
        'missing files are reported and skipped.')
    parser.add_argument('src', help='the folder holding kinetics_train/, kinetics_val/, kinetics_train_label.json '
                        'and kinetics_val_label.json')
    parser.add_argument('out_pkl', help='annotation file to write, e.g. data/kinetics_skeleton/kinetics_skeleton.pkl')
    parser.add_argument('--label-map', default=None,
                        help='where to write the class names (default: kinetics_skeleton_label_map.txt beside OUT.pkl)')
    parser.add_argument('--max-frames', type=int, default=MAX_FRAMES,
                        help='frames kept a clip (default: %(default)s)')
    parser.add_argument('--max-person', type=int, default=MAX_PERSON,
                        help='persons kept a frame (default: %(default)s)')
    parser.add_argument('--workers', type=int, default=None,
                        help='processes (default: every core this process may use)')
    parser.add_argument('--float32', action='store_true',
                        help='store the keypoints as float32 (default: float16, half the file)')
    parser.add_argument('--no-progress', action='store_true', help='do not show a progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        report = convert_kinetics_skeleton(args.src, args.out_pkl, label_map=args.label_map, max_frames=args.max_frames,
                                           max_person=args.max_person, num_workers=args.workers,
                                           dtype='float32' if args.float32 else 'float16',
                                           progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
