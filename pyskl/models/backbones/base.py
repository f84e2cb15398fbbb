"""What every GCN backbone repeats, written once: the graph, the data BatchNorm, the input checks and
reshapes, the stage schedule of channels and strides, per-stage arguments and ``pretrained=``.

A backbone subclasses :class:`GCNBackbone`, builds its blocks from :func:`stage_schedule` (a block
``ReLU(tcn(gcn(x)) + residual(x))`` can subclass :class:`GCNBlock`), and in ``forward`` runs a stack
of blocks with :meth:`GCNBackbone.forward_blocks`, or else calls :meth:`GCNBackbone.to_sequences`
(``(N, M, T, V, C)`` to ``(N * M, C, T, V)``, through the data BatchNorm) and
:meth:`GCNBackbone.to_persons` at the end. Module names stay each backbone's own (``gcn`` in one,
``net`` in another), since released checkpoints depend on them.
"""
import copy

import torch
from mmengine.model import BaseModule
from torch import nn

from ..checkpoint import load_pretrained
from ..graph import Graph
from ..layers.fused import act_, add_, from_channel_major, to_channel_major, tracing

#: data BatchNorm kinds: per joint and channel ('VC': persons share it), per person too ('MVC'), none
DATA_BN_TYPES = ('VC', 'MVC', None)
_EPS = 1e-4


def stage_schedule(in_channels: int, base_channels: int = 64, num_stages: int = 10, ch_ratio: float = 2,
                   inflate_stages=(5, 8), down_stages=(5, 8)) -> list[dict]:
    """The blocks of a stage-wise GCN: ``[dict(in_channels, out_channels, stride, residual), ...]``.

    Stage 1 lifts ``in_channels`` to ``base_channels`` (stride 1, no residual) and is left out when
    they are equal; stages 2 .. ``num_stages`` multiply the channels by ``ch_ratio`` at each of
    ``inflate_stages`` and halve the frames at each of ``down_stages`` (1-based stage numbers).
    """
    blocks = []
    if in_channels != base_channels:
        blocks.append(dict(in_channels=in_channels, out_channels=base_channels, stride=1, residual=False))
    inflate_times, channels = 0, base_channels
    for stage in range(2, num_stages + 1):
        inflate_times += stage in inflate_stages
        out_channels = int(base_channels * ch_ratio ** inflate_times + _EPS)
        blocks.append(dict(in_channels=channels, out_channels=out_channels, stride=1 + (stage in down_stages),
                           residual=True))
        channels = out_channels
    return blocks


def per_stage(args: dict, num_stages: int, sequence_args=('ms_cfg', )) -> list[dict]:
    """One argument dict per stage: an argument given as a tuple of ``num_stages`` values is spread over
    the stages. The arguments in ``sequence_args`` are sequences themselves: per stage only as a tuple
    of lists."""
    cfgs = [copy.deepcopy(args) for _ in range(num_stages)]
    for key, value in args.items():
        spread = isinstance(value, tuple) and len(value) == num_stages and (
            key not in sequence_args or all(isinstance(v, list) for v in value))
        if spread:
            for i in range(num_stages):
                cfgs[i][key] = value[i]
    return cfgs


class GCNBackbone(BaseModule):
    """The plumbing of a skeleton GCN backbone.

    A subclass sets ``out_channels`` (the channels of its output, what the head takes) and, where
    it has two implementations, ``impl`` ('fast' or 'reference').

    Args:
        graph_cfg: arguments of :class:`~pyskl.models.graph.Graph` (layout, mode, ...).
        in_channels: channels of a joint (3 for x, y, z or x, y, score).
        num_person: persons per sample; fixed by a 'MVC' data BatchNorm.
        data_bn_type: 'VC', 'MVC' or None (see ``DATA_BN_TYPES``).
        pretrained: a checkpoint loaded by ``init_weights``: the backbone's weights, or a
            recognizer's checkpoint (its ``backbone.`` weights are taken).
    """

    impl: str | None = None  # None: the backbone has one implementation

    # Eval on CPU runs the batch through ``forward_blocks`` in chunks of sequences whose widest
    # activation fits in this many bytes (None: all at once; not with impl='reference'). glibc maps
    # every allocation above 32 MiB afresh and returns it when freed, so on a whole batch each large
    # tensor is faulted in page by page, every batch; chunks reuse the heap's memory (the benchmarks
    # page of the docs has the figures).
    cpu_eval_chunk_bytes: int | None = 32 * 2**20

    def __init__(self, graph_cfg: dict, in_channels: int = 3, num_person: int = 2, data_bn_type: str | None = 'VC',
                 pretrained: str | None = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if data_bn_type not in DATA_BN_TYPES:
            raise ValueError(f'{name} data_bn_type={data_bn_type!r}: choose one of {list(DATA_BN_TYPES)}')
        if not isinstance(graph_cfg, dict):
            raise ValueError(f'{name} graph_cfg must be a dict such as dict(layout="nturgb+d", mode="spatial"), '
                             f'got {graph_cfg!r}')
        self.graph = Graph(**graph_cfg)
        self.num_joints = self.graph.num_node
        self.in_channels = in_channels
        self.num_person = num_person
        self.data_bn_type = data_bn_type
        self.pretrained = pretrained
        if data_bn_type == 'MVC':
            self.data_bn = nn.BatchNorm1d(num_person * in_channels * self.num_joints)
        elif data_bn_type == 'VC':
            self.data_bn = nn.BatchNorm1d(in_channels * self.num_joints)
        else:
            self.data_bn = nn.Identity()

    def graph_tensor(self) -> torch.Tensor:
        """The graph's adjacency ``(K, V, V)`` as a float32 tensor (a fresh copy)."""
        return torch.tensor(self.graph.A, dtype=torch.float32)

    def init_weights(self):
        super().init_weights()
        if self.pretrained:
            load_pretrained(self, self.pretrained)

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse an input that does not fit the backbone, saying which setting to change."""
        name = type(self).__name__
        if x.dim() != 5:
            raise ValueError(f'{name} expects input (N, M, T, V, C), got shape {tuple(x.shape)}')
        _, M, _, V, C = x.shape
        if V != self.num_joints:
            raise ValueError(f'the input has {V} joints, but the graph layout {self.graph.layout.name!r} has '
                             f'{self.num_joints}: set graph_cfg.layout to match the data')
        if C != self.in_channels:
            raise ValueError(f'the input has {C} channels per joint, {name} expects in_channels={self.in_channels}')
        if self.data_bn_type == 'MVC' and M != self.num_person:
            raise ValueError(f'{name}\'s data BatchNorm (data_bn_type="MVC") normalises each of {self.num_person} '
                             f'persons on its own, so every sample needs {self.num_person} persons; the input has '
                             f'{M} (pad with FormatGCNInput(num_person={self.num_person}))')

    def normalize_input(self, x: torch.Tensor) -> torch.Tensor:
        """Checks, then the data BatchNorm: ``(N, M, T, V, C)`` -> ``(N, M, V, C, T)``."""
        self.check_input(x)
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 3, 4, 2).contiguous()  # N, M, T, V, C -> N, M, V, C, T
        if self.data_bn_type == 'MVC':
            x = self.data_bn(x.view(N, M * V * C, T))
        else:
            x = self.data_bn(x.view(N * M, V * C, T))
        return x.view(N, M, V, C, T)

    def to_sequences(self, x: torch.Tensor) -> torch.Tensor:
        """Checks and the data BatchNorm, then one sequence per person: ``(N, M, T, V, C)`` ->
        ``(N * M, C, T, V)``."""
        x = self.normalize_input(x)
        N, M, V, C, T = x.shape
        return x.permute(0, 1, 3, 4, 2).reshape(N * M, C, T, V)  # N, M, V, C, T -> N * M, C, T, V

    @staticmethod
    def to_persons(x: torch.Tensor, num_person: int) -> torch.Tensor:
        """The blocks' output back to one entry per sample: ``(N * M, C', T', V)`` -> ``(N, M, C', T', V)``."""
        return x.reshape((-1, num_person) + x.shape[1:])

    def forward_blocks(self, x: torch.Tensor, blocks) -> torch.Tensor:
        """The forward pass of a stack of :class:`GCNBlock`: checks and the data BatchNorm, the blocks
        (see ``run_blocks``; in eval on CPU in chunks of sequences, see ``eval_chunk``), one entry per
        sample: ``(N, M, T, V, C)`` -> ``(N, M, C', T', V)``."""
        x = self.normalize_input(x)  # N, M, T, V, C -> N, M, V, C, T
        N, M, V, C, T = x.shape
        x = x.view(N * M, V, C, T)
        step = self.eval_chunk(x, blocks)
        if step < N * M:
            x = torch.cat([self.run_blocks(part, blocks) for part in x.split(step)])
        else:
            x = self.run_blocks(x, blocks)
        return self.to_persons(x, M)  # N * M, C', T', V -> N, M, C', T', V

    @staticmethod
    def run_blocks(x: torch.Tensor, blocks) -> torch.Tensor:
        """The blocks on sequences ``(n, V, C, T)`` (after the data BatchNorm): ``(n, C', T', V)``;
        channel-major from the first block to the last where every block has that path."""
        n, v, c, t = x.shape
        if all(block.fast for block in blocks):
            x = x.permute(2, 0, 3, 1).reshape(c, n, t, v)  # n, V, C, T -> C, n, T, V
            for block in blocks:
                x = block.forward_channel_major(x)
            return x.transpose(0, 1)  # C', n, T', V -> n, C', T', V
        x = x.permute(0, 2, 3, 1).reshape(n, c, t, v)  # n, V, C, T -> n, C, T, V
        for block in blocks:
            x = block(x)
        return x

    def eval_chunk(self, x: torch.Tensor, blocks) -> int:
        """How many of the sequences of ``x`` (``(N * M, V, C, T)``) go through the blocks at once.

        In eval mode on CPU: as many as keep the widest activation (``GCNBlock.widest_activation``)
        within ``cpu_eval_chunk_bytes``; else all. No layer mixes sequences without BatchNorm's batch
        statistics, so the chunks compute what the whole batch would. Not while tracing or compiling
        (the graph would fix the batch size), nor for ``impl='reference'`` (the plain statement).
        """
        n = x.shape[0]
        if (not self.cpu_eval_chunk_bytes or self.impl == 'reference' or x.device.type != 'cpu' or tracing()
                or any(m.training for m in self.modules())):
            return n
        frames, joints, widest = x.shape[-1], x.shape[1], 0
        for block in blocks:
            widest = max(widest, block.widest_activation(frames, joints))
            frames = (frames - 1) // block.stride + 1
        return min(n, max(1, self.cpu_eval_chunk_bytes // (widest * x.element_size())))


class GCNBlock(nn.Module):
    """``ReLU(tcn(gcn(x)) + residual(x))``: the block of the stage-wise GCNs, in two layouts.

    A subclass sets ``gcn`` and ``tcn`` (its units), ``relu``, ``residual`` (None, the identity or a
    strided 1x1 ``UnitTCN``, see ``block_residual``) and, where its units have a fast path, ``impl``.
    Where ``fast`` holds (``impl='fast'`` and every unit's own ``fast``), the units run on
    channel-major tensors (``pyskl/models/layers/fused.py``), each through its ``forward_channel_major``.
    """

    impl = 'reference'  # a block whose units have no fast path keeps this

    @property
    def fast(self) -> bool:
        """Whether the block runs channel-major: asked at every call, as the units ask theirs (a norm
        may be swapped after construction, see ``fused.fused_norms``)."""
        return self.impl == 'fast' and self.units_fast()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast:
            return from_channel_major(self.forward_channel_major(to_channel_major(x)))
        out = self.tcn(self.gcn(x))
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out)

    def forward_channel_major(self, x: torch.Tensor) -> torch.Tensor:
        """The block on ``(C, N, T, V)``."""
        out = self.tcn.forward_channel_major(self.gcn.forward_channel_major(x))
        if isinstance(self.residual, nn.Identity):
            out = add_(out, x)
        elif self.residual is not None:  # BN folded into the strided 1x1 product in eval
            out = add_(out, self.residual.forward_channel_major(x))
        elif torch.is_grad_enabled():  # the temporal unit's own output, which its last op may keep for backward
            return self.relu(out)
        return act_(self.relu, out)

    @property
    def stride(self) -> int:
        """The block's temporal stride (its temporal unit's)."""
        return self.tcn.stride

    def widest_activation(self, frames: int, joints: int) -> int:
        """Elements per sequence of the widest tensor the block makes, for ``frames`` input frames: the
        spatial unit's (``widest_channels``: e.g. its subsets' features side by side)."""
        return self.gcn.widest_channels * frames * joints

    def units_fast(self) -> bool:
        """Whether every unit, the residual included, has the channel-major path."""
        return self.gcn.fast and self.tcn.fast and (self.residual is None or isinstance(self.residual, nn.Identity)
                                                    or self.residual.fast)
