"""Toyota Smarthome (LCR-Net++ skeletons) -> the cross-subject and cross-view annotation pickles.

Usage: python tools/data/smarthome_preproc.py SRC OUT.pkl
"""
import argparse
import sys

from pyskl.datasets.converters.toyota_smarthome import MAX_PERSON, convert_smarthome


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert Toyota Smarthome skeletons (Action_pSS_rRR_vVV_cCC_pose3d.json) into two annotation '
        'files in the smarthome13 layout: OUT.pkl with the 31 actions and the splits cs_train / cs_test, and '
        'OUT_cv.pkl with the 19 cross-view actions and the splits cv1_* and cv2_* (train, val, test), plus '
        'their label maps. Bad files are reported and skipped.')
    parser.add_argument('src', help='the folder of per-clip JSON files')
    parser.add_argument('out_pkl', help='cross-subject annotation file to write, e.g. data/smarthome/smarthome.pkl')
    parser.add_argument('--cv-out', default=None, help='cross-view annotation file (default: OUT_cv.pkl)')
    parser.add_argument('--two-d', action='store_true',
                        help='2D samples (pose2d, pixels of the 640 x 480 videos) instead of 3D ones (pose3d)')
    parser.add_argument('--max-person', type=int, default=MAX_PERSON,
                        help='persons kept a frame (default: %(default)s)')
    parser.add_argument('--float32', action='store_true',
                        help='store the keypoints as float32 (default: float16, half the file)')
    parser.add_argument('--no-progress', action='store_true', help='do not show a progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        report = convert_smarthome(args.src, args.out_pkl, cv_pkl=args.cv_out, max_person=args.max_person,
                                   two_d=args.two_d, dtype='float32' if args.float32 else 'float16',
                                   progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
