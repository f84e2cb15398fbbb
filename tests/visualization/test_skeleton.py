"""tools/vis_skeleton.py: an animated GIF with one frame per drawn skeleton frame."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pyskl.utils.safe_pickle import dump_pickle
from pyskl.visualization.skeleton import infer_layout, render_skeleton

REPO = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location('vis_skeleton_tool', REPO / 'tools' / 'vis_skeleton.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def moving_skeleton(T=6, V=25, C=3, M=1):
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.3, (M, 1, V, C))
    shift = np.linspace(0, 1, T)[None, :, None, None]  # every frame differs (GIF writers merge repeats)
    return (base + shift).astype(np.float32)


def gif_frames(path):
    with Image.open(path) as im:
        assert im.format == 'GIF'
        return im.n_frames


def test_gif_from_an_annotation_pickle_by_frame_dir(tmp_path, capsys):
    kp = moving_skeleton(T=6, M=2)
    kp[1, :2] = 0  # the second person is absent in the first two frames
    ann = dict(split=dict(val=['a', 'b']),
               annotations=[dict(frame_dir='a', label=0, total_frames=4, keypoint=moving_skeleton(T=4)),
                            dict(frame_dir='b', label=3, total_frames=6, keypoint=kp.astype(np.float16))])
    dump_pickle(ann, tmp_path / 'ann.pkl')
    (tmp_path / 'labels.txt').write_text('walk\nrun\njump\nsit\n')
    out = load_tool().main([str(tmp_path / 'ann.pkl'), '--frame-dir', 'b', '--out', str(tmp_path / 'b.gif'),
                            '--label-map', str(tmp_path / 'labels.txt')])
    assert gif_frames(out) == 6
    assert '6 frames, 2 person(s), 25 joints' in capsys.readouterr().out
    # by position, every second frame, 2d
    out = load_tool().main([str(tmp_path / 'ann.pkl'), '--index', '1', '--step', '2', '--mode', '2d',
                            '--out', str(tmp_path / 'b2.gif')])
    assert gif_frames(out) == 3


def test_gif_from_npy_with_t_v_c_and_a_given_layout(tmp_path):
    np.save(tmp_path / 'coco.npy', moving_skeleton(T=5, V=17, C=2)[0])  # T x V x C, 2D image coordinates
    out = load_tool().main([str(tmp_path / 'coco.npy'), '--layout', 'coco', '--out', str(tmp_path / 'c.gif')])
    assert gif_frames(out) == 5


def test_errors_name_the_problem(tmp_path):
    tool = load_tool()
    dump_pickle(dict(split={}, annotations=[dict(frame_dir='a', keypoint=moving_skeleton(T=2))]),
                tmp_path / 'ann.pkl')
    with pytest.raises(SystemExit, match="no sample with frame_dir 'zz'"):
        tool.main([str(tmp_path / 'ann.pkl'), '--frame-dir', 'zz', '--out', str(tmp_path / 'x.gif')])
    np.save(tmp_path / 'odd.npy', np.zeros((3, 11, 3)))
    with pytest.raises(SystemExit, match='no built-in skeleton layout has 11 joints'):
        tool.main([str(tmp_path / 'odd.npy'), '--out', str(tmp_path / 'x.gif')])
    with pytest.raises(ValueError, match='has 25 joints but the keypoints have 17'):
        render_skeleton(moving_skeleton(V=17), tmp_path / 'x.gif', layout='nturgb+d')
    with pytest.raises(ValueError, match='.gif or .mp4'):
        render_skeleton(moving_skeleton(), tmp_path / 'x.png')
    with pytest.raises(ValueError, match='3D keypoints'):
        render_skeleton(moving_skeleton(C=2), tmp_path / 'x.gif', mode='3d', layout='nturgb+d')
    assert infer_layout(20).name == 'nw-ucla'


def test_mp4_needs_ffmpeg(tmp_path):
    import shutil
    if shutil.which('ffmpeg') is None:
        with pytest.raises(RuntimeError, match='needs ffmpeg'):
            render_skeleton(moving_skeleton(T=3), tmp_path / 'x.mp4')
    else:
        assert render_skeleton(moving_skeleton(T=3), tmp_path / 'x.mp4').stat().st_size > 0
