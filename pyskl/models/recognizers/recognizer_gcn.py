"""The skeleton action recognizer: a GCN backbone plus a classification head."""
import torch
from mmengine.model import BaseModel

from ...registry import MODELS

AVERAGE_CLIPS = ('prob', 'score', None)


def average_clips(cls_score: torch.Tensor, mode: str | None) -> torch.Tensor:
    """Fuse the clip scores of each sample, ``(N, num_clips, K)``.

    'prob': softmax per clip, then the mean (the original's default); 'score': mean of the
    raw scores; None: no fusion, the per-clip scores ``(N, num_clips, K)`` are returned.
    """
    if mode == 'prob':
        return cls_score.softmax(dim=-1).mean(dim=1)
    if mode == 'score':
        return cls_score.mean(dim=1)
    return cls_score


@MODELS.register_module()
class RecognizerGCN(BaseModel):
    """Backbone + ``cls_head``; input ``keypoint`` of layout ``(N, num_clips, M, T, V, C)``.

    Args:
        backbone, cls_head: config dicts (built from MODELS).
        train_cfg: unused, accepted for original configs.
        test_cfg: ``dict(average_clips='prob' | 'score' | None, max_testing_views=None)``;
            ``max_testing_views`` bounds how many clips go through the backbone at once.
    """

    def __init__(self, backbone: dict, cls_head: dict | None = None, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, data_preprocessor: dict | None = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.cls_head = MODELS.build(cls_head) if cls_head is not None else None
        self.train_cfg = train_cfg or {}
        self.test_cfg = dict(test_cfg or {})
        self.test_cfg.setdefault('average_clips', 'prob')
        if self.test_cfg['average_clips'] not in AVERAGE_CLIPS:
            raise ValueError(f"test_cfg.average_clips={self.test_cfg['average_clips']!r}: choose one of "
                             f'{list(AVERAGE_CLIPS)}')

    def extract_feat(self, keypoint: torch.Tensor) -> torch.Tensor:
        """Backbone features of ``(N, M, T, V, C)`` input."""
        return self.backbone(keypoint)

    def _clip_scores(self, keypoint: torch.Tensor) -> torch.Tensor:
        """Logits of every clip: ``(N, num_clips, M, T, V, C) -> (N * num_clips, K)``, clip-major per sample."""
        if keypoint.dim() != 6:
            raise ValueError(f'RecognizerGCN expects keypoint (N, num_clips, M, T, V, C), got shape '
                             f'{tuple(keypoint.shape)}')
        if self.cls_head is None:
            raise RuntimeError('RecognizerGCN has no cls_head: only mode="tensor" features are available')
        x = keypoint.reshape((-1, ) + keypoint.shape[2:])
        views = self.test_cfg.get('max_testing_views') if not self.training else None
        if views:
            return torch.cat([self.cls_head(self.extract_feat(chunk)) for chunk in x.split(views)])
        return self.cls_head(self.extract_feat(x))

    def forward(self, keypoint: torch.Tensor, label: torch.Tensor | None = None, mode: str = 'tensor', **kwargs):
        if mode == 'loss':
            if label is None:
                raise ValueError('mode="loss" needs labels')
            num_clips = keypoint.shape[1]
            label = torch.as_tensor(label, device=keypoint.device).reshape(-1).repeat_interleave(num_clips)
            return self.cls_head.loss(self._clip_scores(keypoint), label)
        if mode == 'predict':
            N, num_clips = keypoint.shape[:2]
            scores = self._clip_scores(keypoint).reshape(N, num_clips, -1)
            # float: under autocast the scores may be bfloat16, which numpy (the metrics) cannot read
            scores = average_clips(scores.float(), self.test_cfg['average_clips']).detach().cpu()
            labels = [None] * N if label is None else torch.as_tensor(label).reshape(-1).cpu()
            return [dict(pred_score=score, gt_label=gt) for score, gt in zip(scores, labels)]
        if mode == 'tensor':
            if self.cls_head is None:
                return self.extract_feat(keypoint.reshape((-1, ) + keypoint.shape[2:]))
            return self._clip_scores(keypoint)
        raise ValueError(f'unknown mode {mode!r}: use "loss", "predict" or "tensor"')
