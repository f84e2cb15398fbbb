"""Pack the keypoints of a Kinetics-400 annotation file's kpfiles into its memory-mapped cache.

    python tools/data/k400_cache.py data/k400/k400_hrnet.pkl data/k400/kpfiles

Every kpfile is read once, by every core in parallel; an interrupted run resumes where it
stopped. The cache is written beside the annotation file (``k400_hrnet.pkl.cache``), where
the k400_hrnet configs (``cache=True``) find it; a config run would build the same one.
"""
import argparse
import sys

from pyskl.datasets.pose_dataset import prepare_kinetics_cache


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_file', help='the annotation pickle (k400_hrnet.pkl)')
    parser.add_argument('kpfile_dir', help='the folder of the kpfiles')
    parser.add_argument('--cache', default=None, help='cache folder (default: ANN_FILE.cache, as the configs)')
    parser.add_argument('--workers', type=int, default=None, help='processes (default: every core)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='leave out videos whose kpfile is missing or corrupt (counted), instead of stopping')
    args = parser.parse_args(argv)
    try:
        summary = prepare_kinetics_cache(args.ann_file, args.kpfile_dir, cache=args.cache or True,
                                         num_workers=args.workers,
                                         on_bad_sample='skip' if args.skip_bad else 'raise')
    except (OSError, ValueError, KeyError) as err:
        sys.exit(f'error: {err}')
    print(f"{summary['folder']}: {summary['videos']} videos, {summary['nbytes'] / 2**30:.2f} GiB"
          + (f", {summary['skipped']} skipped" if summary['skipped'] else ''))


if __name__ == '__main__':
    main()
