"""Classify a recording with a trained model: top-k classes, or one prediction per window.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--top-k 5] [--out preds.csv]
    python tools/infer.py CONFIG CHECKPOINT long.json --window 48 --stride 24 --out preds.csv

INPUT: a .npy array (T x V x C or M x T x V x C), an annotation .pkl with --frame-dir NAME,
an mmpose --save-predictions .json, or an OpenPose --write_json folder. For 2D inputs the
persons of each frame are ranked by mean keypoint score and the model's num_person best kept;
OpenPose's 18/25 joints are mapped to a coco model's layout (README, "Use a trained model").
With --window, --out gets one row per window and a timeline plot (same name, .png) of the
top classes over time.
"""
import argparse
import os.path as osp

from pyskl.apis import init_recognizer, predict_recording, predictions_csv, read_recording
from pyskl.runner.cli import cli_errors
from pyskl.evaluation.plots import plot_timeline


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Predict the action of a skeleton recording')
    parser.add_argument('config', help='config file (its test pipeline prepares the input)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='.npy, annotation .pkl, mmpose .json or OpenPose JSON folder')
    parser.add_argument('--frame-dir', help='the sample of an annotation .pkl to classify')
    parser.add_argument('--img-shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='frame height and width of 2D keypoints, where the file does not say it')
    parser.add_argument('--top-k', type=int, default=5, help='classes listed per prediction (default 5)')
    parser.add_argument('--window', type=int, help='classify windows of this many frames (long recordings)')
    parser.add_argument('--stride', type=int, help='frames between window starts (default: --window)')
    parser.add_argument('--out', help='CSV of the predictions (with --window also OUT.png, the timeline)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    args = parser.parse_args(argv)
    if args.stride is not None and args.window is None:
        parser.error('--stride needs --window')
    if args.top_k < 1:
        parser.error('--top-k must be at least 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    with cli_errors():
        model = init_recognizer(args.config, args.checkpoint, device=args.device)
        sample = read_recording(args.input, model, frame_dir=args.frame_dir, img_shape=args.img_shape)
        rows = predict_recording(model, sample, args.window, args.stride, top_k=args.top_k)
    for row in rows:
        span = f'frames {row["start"]}-{row["end"] - 1}: ' if args.window else ''
        print(span + ', '.join(f'{name or label} {score:.3f}' for label, name, score in row['top_k']))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(predictions_csv(rows))
        print(f'predictions written to {args.out}')
        if args.window:
            png = osp.splitext(args.out)[0] + '.png'
            plot_timeline(png, [r['start'] for r in rows], [r['end'] for r in rows], [r['scores'] for r in rows],
                          model.class_names)
            print(f'timeline written to {png}')


if __name__ == '__main__':
    main()
