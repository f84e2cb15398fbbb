"""A small synthetic 3D skeleton dataset that ships with pyskl, so a new user
sees training and testing work in minutes with nothing to download.

Each sample is one person (sometimes with an idle second person beside them)
in the NTU RGB+D 25-joint layout (``pyskl.skeleton.LAYOUTS['nturgb+d']``),
in Kinect-like camera coordinates (metres; x to the side, y up, z away from
the camera), performing one of :data:`CLASSES`. A skeleton is posed by forward
kinematics: every joint has a rest offset from its parent and, per frame, a
rotation of the bone that leads to it (which also turns everything below it).
Per sample the generator varies the body size and proportions, speed and
number of repetitions, amplitude, phase, idle frames before and after the
action, a slow idle sway, the position and heading of the person (a rotation
about the vertical axis), a slight camera tilt, joint noise and the length
(``min_len`` to ``max_len`` frames).

Everything is drawn from ``np.random.default_rng([seed, split, label, index])``:
a sample depends only on those four numbers, never on global random state or
on how many other samples are made.
"""
import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from pyskl.skeleton import LAYOUTS
from pyskl.utils.safe_pickle import dump_pickle

CLASSES = ('wave right hand', 'wave left hand', 'clap hands', 'squat', 'jump', 'kick with right leg', 'bow',
           'walk in place')
SPLITS = ('train', 'val')
NUM_JOINTS = LAYOUTS['nturgb+d'].num_node

# NTU joints (0-based): 0 spine base, 1 spine mid, 2 neck, 3 head, 4-7 left shoulder/elbow/wrist/hand,
# 8-11 right shoulder/elbow/wrist/hand, 12-15 left hip/knee/ankle/foot, 16-19 right hip/knee/ankle/foot,
# 20 spine shoulder, 21/22 left hand tip/thumb, 23/24 right hand tip/thumb.
PARENT = {1: 0, 20: 1, 2: 20, 3: 2, 4: 20, 5: 4, 6: 5, 7: 6, 21: 7, 22: 7, 8: 20, 9: 8, 10: 9, 11: 10, 23: 11,
          24: 11, 12: 0, 13: 12, 14: 13, 15: 14, 16: 0, 17: 16, 18: 17, 19: 18}
FK_ORDER = (1, 20, 2, 3, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24, 12, 13, 14, 15, 16, 17, 18, 19)
# Rest pose (standing, arms hanging), offset of each joint from its parent in metres for a
# 1.75 m person facing the camera (-z); the person's left is -x.
REST_OFFSET = {
    1: (0, .28, 0), 20: (0, .22, 0), 2: (0, .07, 0), 3: (0, .14, -.01),
    4: (-.17, -.03, 0), 5: (-.02, -.28, 0), 6: (0, -.25, -.01), 7: (0, -.08, 0), 21: (0, -.07, 0),
    22: (.02, -.03, -.04),
    8: (.17, -.03, 0), 9: (.02, -.28, 0), 10: (0, -.25, -.01), 11: (0, -.08, 0), 23: (0, -.07, 0),
    24: (-.02, -.03, -.04),
    12: (-.09, -.05, 0), 13: (0, -.42, -.01), 14: (0, -.42, .02), 15: (0, -.05, -.12),
    16: (.09, -.05, 0), 17: (0, -.42, -.01), 18: (0, -.42, .02), 19: (0, -.05, -.12),
}
# Bones whose length scales together (proportions vary per sample).
SEGMENTS = {'torso': (1, 20, 2, 3), 'upper_arm': (5, 9), 'forearm': (6, 10), 'hand': (7, 11, 21, 22, 23, 24),
            'shoulder': (4, 8), 'hip': (12, 16), 'thigh': (13, 17), 'shank': (14, 18), 'foot': (15, 19)}
LEFT, RIGHT = -1.0, 1.0


def _rot(axis: str, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(T, 3, 3)`` about a coordinate axis by ``angle`` (radians, shape T)."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    rows = {'x': ((one, zero, zero), (zero, c, -s), (zero, s, c)),
            'y': ((c, zero, s), (zero, one, zero), (-s, zero, c)),
            'z': ((c, -s, zero), (s, c, zero), (zero, zero, one))}[axis]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


class _Pose:
    """Per-frame bone rotations (in the parent bone's frame) of one person, ``T`` frames.

    Angles are in degrees. Conventions for the bone rotated (``L[j]`` turns the
    bone parent(j) -> j and everything below it):
      - arm raise forward (flexion) and leg raise forward: about x, positive;
      - arm raise sideways (abduction): about z, ``side * angle`` (side -1 left, +1 right);
      - torso lean forward: about x, negative (the torso points up).
    """

    def __init__(self, num_frames: int):
        self.T = num_frames
        self.rot = {}

    def turn(self, joint: int, axis: str, degrees) -> None:
        angle = np.broadcast_to(np.radians(np.asarray(degrees, dtype=np.float64)), (self.T, )).copy()
        r = _rot(axis, angle)
        self.rot[joint] = self.rot[joint] @ r if joint in self.rot else r

    # bones named by the joint they lead to
    def arm(self, side: float, flex=0., abd=0., horizontal=0., elbow=0., elbow_side=0.) -> None:
        shoulder_bone, forearm_bone = (5, 6) if side == LEFT else (9, 10)
        self.turn(shoulder_bone, 'y', side * np.asarray(horizontal))  # towards the midline when raised forward
        self.turn(shoulder_bone, 'z', side * np.asarray(abd))
        self.turn(shoulder_bone, 'x', flex)
        self.turn(forearm_bone, 'x', elbow)  # bend the elbow, forearm forwards
        self.turn(forearm_bone, 'z', side * np.asarray(elbow_side))  # bend in the frontal plane

    def leg(self, side: float, hip=0., knee=0., abd=0.) -> None:
        thigh, shank, foot = (13, 14, 15) if side == LEFT else (17, 18, 19)
        self.turn(thigh, 'z', side * np.asarray(abd))
        self.turn(thigh, 'x', hip)
        self.turn(shank, 'x', -np.asarray(knee))
        self.turn(foot, 'x', np.asarray(knee) - np.asarray(hip))  # keep the foot level

    def torso(self, lean=0., side=0., twist=0.) -> None:
        self.turn(1, 'x', -np.asarray(lean))
        self.turn(1, 'z', side)
        self.turn(1, 'y', twist)


def _forward_kinematics(pose: _Pose, offsets: dict, root: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """Joint positions ``T x 25 x 3`` from bone rotations, the root (spine base) position
    ``T x 3`` and the body's heading about the vertical axis ``T x 3 x 3``."""
    T = pose.T
    eye = np.broadcast_to(np.eye(3), (T, 3, 3))
    frame = {0: heading}
    pos = np.zeros((T, NUM_JOINTS, 3))
    pos[:, 0] = root
    for j in FK_ORDER:
        p = PARENT[j]
        frame[j] = frame[p] @ pose.rot.get(j, eye)
        pos[:, j] = pos[:, p] + frame[j] @ offsets[j]
    return pos


def _cycle(t: np.ndarray, cycles: float, phase: float = 0.) -> np.ndarray:
    """Phase in [0, 1) of ``cycles`` repetitions over active time ``t`` in [0, 1]."""
    return np.mod(t * cycles + phase, 1.0)


def _bump(p: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over one cycle, smooth at both ends."""
    return np.sin(np.pi * p)**2


def _animate(label: int, pose: _Pose, t: np.ndarray, env: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pose the action ``label`` over active time ``t`` (0..1, ``env`` its 0-1 ramp);
    returns an extra vertical lift of the body (jumps), ``T``."""
    amp = rng.uniform(0.8, 1.2)
    lift = np.zeros(pose.T)
    name = CLASSES[label]
    if name.startswith('wave'):
        side = RIGHT if 'right' in name else LEFT
        cycles = rng.uniform(2, 5)
        osc = np.sin(2 * np.pi * cycles * t + rng.uniform(0, 2 * np.pi))
        pose.arm(side, abd=env * amp * rng.uniform(85, 115), flex=env * rng.uniform(0, 25),
                 elbow_side=env * (rng.uniform(60, 90) + 25 * amp * osc))
        pose.arm(-side, flex=rng.uniform(0, 10), elbow=rng.uniform(5, 20))
        pose.torso(side=env * side * -rng.uniform(0, 5))
    elif name == 'clap hands':
        p = _cycle(t, rng.uniform(3, 7), rng.uniform(0, 1))
        meet = np.cos(np.pi * p)**2  # 1 when the hands touch
        flex = env * amp * rng.uniform(60, 85)
        for side in (LEFT, RIGHT):
            pose.arm(side, flex=flex, horizontal=env * (-8 + 28 * meet), elbow=env * rng.uniform(15, 35))
    elif name == 'squat':
        s = env * _bump(_cycle(t, float(rng.integers(1, 4))))
        depth = amp * rng.uniform(70, 100)
        for side in (LEFT, RIGHT):
            pose.leg(side, hip=s * depth, knee=s * depth * 1.25)
            pose.arm(side, flex=s * rng.uniform(50, 90), elbow=10)
        pose.torso(lean=s * depth * 0.35)
    elif name == 'jump':
        p = _cycle(t, float(rng.integers(2, 4)))
        crouch = np.where(p < 0.3, _bump(p / 0.6), np.where(p > 0.7, _bump((p - 0.4) / 0.6), 0)) * env
        air = np.where((p >= 0.3) & (p <= 0.7), np.sin(np.pi * (p - 0.3) / 0.4), 0) * env
        for side in (LEFT, RIGHT):
            pose.leg(side, hip=crouch * 45 * amp + air * 10, knee=crouch * 65 * amp + air * 15)
            pose.arm(side, flex=air * rng.uniform(80, 160) - crouch * 30, elbow=15)
        pose.torso(lean=crouch * 20)
        lift = air * amp * rng.uniform(0.18, 0.35)
    elif name == 'kick with right leg':
        # a front kick: the hands come up into a guard, the right leg swings up, then down again
        p = _cycle(t, float(rng.integers(1, 3)))
        raise_ = env * _bump(p)
        chamber = env * np.where(p < 0.5, _bump(p), 0)  # knee bent on the way up, straight at the top
        pose.leg(RIGHT, hip=raise_ * amp * rng.uniform(70, 100), knee=chamber * 60)
        for side in (LEFT, RIGHT):
            pose.arm(side, flex=env * rng.uniform(35, 55), horizontal=env * rng.uniform(10, 25),
                     elbow=env * rng.uniform(95, 125))
        pose.torso(lean=-raise_ * 10)
    elif name == 'bow':
        p = _cycle(t, float(rng.integers(1, 3)))
        s = env * _smoothstep(np.minimum(p, 1 - p) * 3.5)  # down, hold, up
        lean = s * amp * rng.uniform(40, 70)
        pose.torso(lean=lean)
        pose.turn(3, 'x', -s * 15)
        for side in (LEFT, RIGHT):
            pose.arm(side, flex=lean * 0.85)  # arms keep hanging under gravity
    elif name == 'walk in place':
        p = _cycle(t, rng.uniform(2, 4.5), rng.uniform(0, 1))
        step = env * amp * rng.uniform(35, 55)
        left, right = np.maximum(np.sin(2 * np.pi * p), 0), np.maximum(-np.sin(2 * np.pi * p), 0)
        pose.leg(LEFT, hip=step * left, knee=2 * step * left)
        pose.leg(RIGHT, hip=step * right, knee=2 * step * right)
        swing = env * rng.uniform(15, 30) * np.sin(2 * np.pi * p)
        pose.arm(LEFT, flex=-swing, elbow=20)
        pose.arm(RIGHT, flex=swing, elbow=20)
    else:  # pragma: no cover - CLASSES and this function are kept in step
        raise ValueError(f'no motion for class {label}')
    return lift


def _idle(pose: _Pose, rng: np.random.Generator) -> None:
    """A slow sway that a standing person never stops doing."""
    frames = np.arange(pose.T)
    for joint, axis, deg in ((1, 'z', 2.), (1, 'x', 2.), (1, 'y', 4.), (3, 'x', 5.), (3, 'y', 8.), (5, 'x', 4.),
                             (9, 'x', 4.), (6, 'x', 6.), (10, 'x', 6.)):
        period = rng.uniform(40, 120)
        pose.turn(joint, axis, deg * rng.uniform(0.3, 1) * np.sin(2 * np.pi * frames / period + rng.uniform(0, 6.3)))


def _body(rng: np.random.Generator) -> dict:
    scale = rng.uniform(0.85, 1.12)
    ratio = {name: rng.uniform(0.94, 1.06) for name in SEGMENTS}
    offsets = {}
    for j, off in REST_OFFSET.items():
        seg = next(name for name, joints in SEGMENTS.items() if j in joints)
        offsets[j] = np.asarray(off, dtype=np.float64) * scale * ratio[seg]
    return offsets


def _person(rng: np.random.Generator, num_frames: int, label: Optional[int], floor: float,
            place: tuple, env: Optional[np.ndarray] = None, t: Optional[np.ndarray] = None) -> np.ndarray:
    """One person, ``T x 25 x 3``; ``label=None`` makes an idle bystander."""
    offsets = _body(rng)
    pose = _Pose(num_frames)
    _idle(pose, rng)
    lift = np.zeros(num_frames)
    if label is not None:
        lift = _animate(label, pose, t, env, rng)
    heading = _rot('y', np.full(num_frames, place[2]))
    root = np.zeros((num_frames, 3))
    pos = _forward_kinematics(pose, offsets, root, heading)
    # stand on the floor: the lowest ankle or foot touches it (then add the jump's lift)
    lowest = pos[:, [14, 15, 18, 19], 1].min(axis=1)
    drift = np.cumsum(rng.normal(0, 0.002, (num_frames, 3)), axis=0) * [1, 0, 1]
    pos += (np.array([place[0], floor, place[1]]) + drift)[:, None, :]
    pos[..., 1] += (lift - lowest)[:, None]
    return pos


def make_sample(label: int, rng: np.random.Generator, min_len: int = 40, max_len: int = 100,
                p_second_person: float = 0.2) -> np.ndarray:
    """``keypoint`` ``M x T x 25 x 3`` (float32) of one sample of class ``label``; M is 1 or 2."""
    T = int(rng.integers(min_len, max_len + 1))
    pad_before = int(rng.integers(0, T // 6 + 1))
    pad_after = int(rng.integers(0, T // 6 + 1))
    active = T - pad_before - pad_after
    frames = np.arange(T)
    t = np.clip((frames - pad_before) / max(active - 1, 1), 0, 1)
    ramp = max(2, int(0.12 * active))
    env = _smoothstep((frames - pad_before + 1) / ramp) * _smoothstep((pad_before + active - frames) / ramp)

    floor = -rng.uniform(0.9, 1.1)  # the camera is about 1 m above the floor
    heading = np.radians(rng.uniform(-45, 45))
    place = (rng.uniform(-0.4, 0.4), rng.uniform(2.6, 3.4), heading)
    people = [_person(rng, T, label, floor, place, env, t)]
    if rng.random() < p_second_person:
        side = rng.choice([-1, 1])
        other = (place[0] + side * rng.uniform(0.8, 1.2), place[1] + rng.uniform(-0.3, 0.3),
                 np.radians(rng.uniform(-60, 60)))
        bystander = _person(rng, T, None, floor, other)
        if rng.random() < 0.5:  # walks into or out of view: all-zero frames, as NTU stores an absent body
            cut = int(rng.integers(T // 4, 3 * T // 4))
            if rng.random() < 0.5:
                bystander[:cut] = 0
            else:
                bystander[cut:] = 0
        people.append(bystander)
    keypoint = np.stack(people)  # M, T, V, C

    tilt = _rot('x', np.full(1, np.radians(rng.uniform(-5, 5))))[0]  # camera pitch
    present = np.any(keypoint != 0, axis=-1, keepdims=True)
    keypoint = keypoint @ tilt.T
    keypoint += rng.normal(0, 0.008, keypoint.shape)
    return np.where(present, keypoint, 0).astype(np.float32)


def make_demo_annotations(seed: int = 0, num_train: int = 30, num_val: int = 10, min_len: int = 40,
                          max_len: int = 100, p_second_person: float = 0.2) -> dict:
    """The demo dataset in pyskl's annotation format (keypoints float16), splits ``train`` and ``val``."""
    if not 1 <= min_len <= max_len:
        raise ValueError(f'need 1 <= min_len <= max_len, got {min_len} and {max_len}')
    annotations, split = [], {}
    for split_id, (name, count) in enumerate(zip(SPLITS, (num_train, num_val))):
        split[name] = []
        for label, cls in enumerate(CLASSES):
            for i in range(count):
                rng = np.random.default_rng([seed, split_id, label, i])
                keypoint = make_sample(label, rng, min_len, max_len, p_second_person).astype(np.float16)
                frame_dir = f'demo_{name}_{cls.replace(" ", "_")}_{i:03d}'
                split[name].append(frame_dir)
                annotations.append(dict(frame_dir=frame_dir, label=label, total_frames=keypoint.shape[1],
                                        keypoint=keypoint))
    return dict(split=split, annotations=annotations)


def write_demo_data(out_dir: Union[str, os.PathLike], seed: int = 0, **kwargs) -> tuple[Path, Path]:
    """Write ``demo_3danno.pkl`` and ``label_map.txt`` (one class name a line) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ann_path, map_path = out_dir / 'demo_3danno.pkl', out_dir / 'label_map.txt'
    dump_pickle(make_demo_annotations(seed=seed, **kwargs), ann_path)
    map_path.write_text(''.join(f'{c}\n' for c in CLASSES), encoding='utf-8')
    return ann_path, map_path
