"""Small pose-estimator output files for tests: mmpose --save-predictions JSON and OpenPose --write_json folders."""
import json

import numpy as np


def write_mmpose(path, frames):
    """frames: per frame a list of (keypoints V x 2, scores V)."""
    info = [dict(frame_id=t, instances=[dict(keypoints=kp.tolist(), keypoint_scores=sc.tolist(), bbox=[[0, 0, 1, 1]],
                                             bbox_score=1.0) for kp, sc in people])
            for t, people in enumerate(frames)]
    path.write_text(json.dumps(dict(meta_info=dict(dataset_name='coco'), instance_info=info)))
    return path


def write_openpose(folder, frames):
    folder.mkdir()
    for t, people in enumerate(frames):
        data = dict(version=1.3, people=[dict(person_id=[-1], pose_keypoints_2d=np.concatenate(
            [kp, sc[:, None]], 1).reshape(-1).tolist()) for kp, sc in people])
        (folder / f'clip_{t:012d}_keypoints.json').write_text(json.dumps(data))
    return folder
