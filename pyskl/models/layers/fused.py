"""Kernels of the fast DG-STGCN path, on channel-major tensors ``(C, N, T, V)``.

Why channel-major: every 1x1 convolution of the block becomes one matrix product
``W (C_out, C_in) @ x (C_in, N*T*V)`` over the whole batch, which measured 2-3x faster (forward
plus backward) than ``conv2d`` on ``(N, C, T, V)`` on CPU (oneDNN reorders its input and runs the
weight gradient as N small products; ``product`` says which kernel computes the product). The
channel slices that DG-GCN and DG-TCN split their outputs into are contiguous blocks, BatchNorm
is one reduction per row, and the graph aggregation batches over ``(channel, sample)`` with no
transpose. ``to_channel_major``/``from_channel_major`` convert at the backbone's ends. The fast
path runs under autocast too (bfloat16 on CPU: faster than the reference path there,
``tools/benchmarks/model_speed.py --amp``).

Several 1x1 convolutions read the same input (DG-TCN's branch reductions, DG-GCN's ``pre`` and
``down``): ``conv_bn`` runs them as one product on their weights concatenated at forward time,
and one ``batch_norm`` over the concatenated channels, which is the same computation since
BatchNorm is per channel. In ``eval()`` each BatchNorm is folded into the weights of the
convolution before it. The modules and their parameters are untouched: the state dict is the
same whichever path runs.
"""
import os
import platform

import torch
import torch.nn.functional as F
from torch import nn


IMPLS = ('fast', 'reference')


def check_impl(owner: str, impl: str) -> str:
    """``impl`` if it names an implementation of a layer with a fast path, else a ValueError."""
    if impl not in IMPLS:
        raise ValueError(f'{owner} impl={impl!r}: choose "fast" or "reference" (same numbers, same state dict)')
    return impl


def tracing() -> bool:
    """True while TorchScript traces or scripts, or dynamo compiles or exports, the model."""
    return torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling()


def plain_bn(module) -> bool:
    """True for a ``BatchNorm2d`` (not Sync/Instance norm) the fused path can compute."""
    return type(module) is nn.BatchNorm2d and module.affine and module.track_running_stats


NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)


def fused_norms(module: nn.Module) -> bool:
    """True where every norm layer inside ``module`` is one the fused kernels compute (``plain_bn``).

    A layer with a fast path asks this at every call, never once when it is built: a norm may be
    swapped afterwards, as ``nn.SyncBatchNorm.convert_sync_batchnorm`` does for multi-GPU training,
    and the fused kernels would then compute plain, unsynchronised batch statistics.
    """
    return all(plain_bn(m) for m in module.modules() if isinstance(m, NORM_TYPES))


def to_channel_major(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, V)`` -> contiguous ``(C, N, T, V)``."""
    return x.transpose(0, 1).contiguous()


def from_channel_major(x: torch.Tensor) -> torch.Tensor:
    """``(C, N, T, V)`` -> contiguous ``(N, C, T, V)``."""
    return x.transpose(0, 1).contiguous()


def bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``x * scale + shift``."""
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _momentum(bn: nn.BatchNorm2d) -> float:
    """The running-average factor ``nn.BatchNorm2d.forward`` would use for this step."""
    if bn.momentum is None:  # cumulative moving average
        return 1.0 / float(bn.num_batches_tracked + 1)
    return bn.momentum


def _cpu_vendor() -> str:
    """The CPU vendor as ``/proc/cpuinfo`` names it (``GenuineIntel``, ``AuthenticAMD``), else ``platform``'s."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('vendor_id'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def default_cpu_product() -> str:
    """Which kernel runs the float32/float64 products on CPU: ``'mm'`` (``torch.mm``, MKL) on Intel
    CPUs, ``'conv'`` (a 1x1 ``conv2d``, oneDNN) elsewhere; ``PYSKL_CPU_PRODUCT=mm|conv`` overrides.

    Measured on the whole model, both routes in one process (README, Speed): on a 2-core Intel Xeon
    MKL trained 1.8x faster than oneDNN, on a 2-core AMD EPYC oneDNN 1.5x faster than MKL (whose
    fast code paths are for Intel CPUs).
    """
    choice = os.environ.get('PYSKL_CPU_PRODUCT')
    if choice is not None:
        if choice not in CPU_PRODUCTS:
            raise ValueError(f'PYSKL_CPU_PRODUCT={choice!r}: choose one of {list(CPU_PRODUCTS)}')
        return choice
    return 'mm' if torch.backends.mkl.is_available() and 'Intel' in _cpu_vendor() else 'conv'


CPU_PRODUCTS = ('mm', 'conv')
CPU_PRODUCT = default_cpu_product()


def product(weight: torch.Tensor, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``weight (C_out, C_in) @ x (C_in, N, T, V) [+ bias]``, shaped ``(C_out, N, T, V)``.

    On CPU in full precision, with ``CPU_PRODUCT == 'conv'`` (not Intel): a 1x1 ``conv2d`` of ``x``
    as one ``(1, C_in, N*T*V, 1)`` image, which oneDNN runs as one product. Otherwise, under
    autocast and on CUDA: ``torch.mm`` (bfloat16 products run on oneDNN there, and measured faster
    than the convolution).
    """
    if (CPU_PRODUCT == 'conv' and x.device.type == 'cpu' and x.dtype in (torch.float32, torch.float64)
            and not torch.is_autocast_enabled('cpu')):
        y = F.conv2d(x.reshape(1, x.shape[0], -1, 1), weight[:, :, None, None], bias)
        return y.view((weight.shape[0], ) + x.shape[1:])
    y = torch.mm(weight, x.reshape(x.shape[0], -1))
    if bias is not None:  # in place: measured faster than addmm; in the product's dtype under autocast
        y.add_(bias.to(y.dtype)[:, None])
    return y.view((weight.shape[0], ) + x.shape[1:])


def conv_bn(x: torch.Tensor, parts, training: bool, stride: int = 1) -> list[torch.Tensor]:
    """``[bn(conv(x)) for conv, bn in parts]`` on a channel-major ``x``, as one matrix product.

    ``parts``: ``(conv, bn)`` pairs of 1x1 convolutions reading ``x``, every ``bn`` a BatchNorm or
    every one None (no norm). The outputs are contiguous row blocks of one product.
    """
    with_norm = parts[0][1] is not None
    if any((bn is not None) != with_norm for _, bn in parts):
        raise ValueError('conv_bn: give every convolution a norm or none')
    weights, biases = [], []
    for conv, bn in parts:
        w = conv.weight.reshape(conv.out_channels, conv.in_channels)
        b = conv.bias if conv.bias is not None else w.new_zeros(conv.out_channels)
        if with_norm and not training:  # BN folded into the conv in eval
            scale, shift = bn_scale_shift(bn)
            w, b = w * scale[:, None], b * scale + shift
        weights.append(w)
        biases.append(b)
    weight, bias = (torch.cat(weights), torch.cat(biases)) if len(parts) > 1 else (weights[0], biases[0])
    if stride > 1:
        x = x[:, :, ::stride]
    if with_norm and training:
        # a bias before a training-mode BatchNorm only moves the batch mean, which the norm
        # subtracts: the product runs without it (no pass to add it), the running mean gets it
        y = batch_norm_train(product(weight, x), [bn for _, bn in parts], conv_bias=bias)
    else:
        y = product(weight, x, bias)
    return list(y.split([conv.out_channels for conv, _ in parts])) if len(parts) > 1 else [y]


def batch_norm(x: torch.Tensor, bn: nn.BatchNorm2d, training: bool) -> torch.Tensor:
    """``bn`` over the rows of a channel-major ``x`` (train: batch statistics; eval: running ones)."""
    if training:
        return batch_norm_train(x, [bn])
    y = F.batch_norm(x.reshape(1, x.shape[0], -1), bn.running_mean, bn.running_var, bn.weight, bn.bias,
                     False, 0.0, bn.eps)
    return y.view(x.shape)


class _BatchNormAfterBias(torch.autograd.Function):
    """Training-mode ``batch_norm(x + conv_bias)`` without adding the bias to ``x``.

    The bias only moves the batch mean, so the output is ``batch_norm(x)``. Its gradient is the
    sum of the gradient of the norm's input, as for a convolution's bias: zero up to rounding,
    computed the same way, so that gradients (and fixtures of their norms) match the reference
    path. ``running_mean`` is updated without the bias (``batch_norm_train`` adds it).
    """

    @staticmethod
    def forward(ctx, x, conv_bias, weight, bias, running_mean, running_var, momentum, eps):
        y, save_mean, save_invstd = torch.native_batch_norm(x, weight, bias, running_mean, running_var, True,
                                                            momentum, eps)
        ctx.save_for_backward(x, weight, save_mean, save_invstd)
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, save_mean, save_invstd = ctx.saved_tensors
        grad_x, grad_weight, grad_bias = torch.ops.aten.native_batch_norm_backward(
            grad.contiguous(), x, weight, None, None, save_mean, save_invstd, True, ctx.eps, [True, True, True])
        return grad_x, grad_x.sum((0, 2)), grad_weight, grad_bias, None, None, None, None


def batch_norm_train(x: torch.Tensor, bns, conv_bias: torch.Tensor | None = None) -> torch.Tensor:
    """Training-mode BatchNorm of a channel-major ``x``, its first ``bns[0].num_features`` rows by
    ``bns[0]`` and so on: one ``batch_norm`` call; the running statistics go back to each module.

    ``conv_bias``: the bias of the convolution that produced ``x``, left out of ``x``: the output
    does not depend on it and the running means get it added (see ``_BatchNormAfterBias``).
    """
    momentum = {_momentum(bn) for bn in bns}
    eps = {bn.eps for bn in bns}
    if len(momentum) > 1 or len(eps) > 1:  # differently configured norms: one call each
        sizes = [bn.num_features for bn in bns]
        conv_biases = conv_bias.split(sizes) if conv_bias is not None else [None] * len(bns)
        return torch.cat([batch_norm_train(part, [bn], b) for bn, part, b in zip(bns, x.split(sizes), conv_biases)])
    momentum, eps = momentum.pop(), eps.pop()
    if len(bns) == 1:  # the norm updates the module's running statistics in place
        mean, var, weight, bias = bns[0].running_mean, bns[0].running_var, bns[0].weight, bns[0].bias
    else:  # one BN over the concatenated channels (BatchNorm is per channel), copied back below
        mean = torch.cat([bn.running_mean for bn in bns])
        var = torch.cat([bn.running_var for bn in bns])
        weight, bias = torch.cat([bn.weight for bn in bns]), torch.cat([bn.bias for bn in bns])
    flat = x.reshape(1, x.shape[0], -1)  # BatchNorm over the rows: (1, C, N*T*V)
    if conv_bias is None:
        y = F.batch_norm(flat, mean, var, weight, bias, True, momentum, eps)
    else:
        y = _BatchNormAfterBias.apply(flat, conv_bias, weight, bias, mean, var, momentum, eps)
    with torch.no_grad():
        if conv_bias is not None:  # the batch mean the bias would have moved
            mean.add_(conv_bias, alpha=momentum)
        start = 0
        for bn in bns:
            end = start + bn.num_features
            if len(bns) > 1:
                bn.running_mean.copy_(mean[start:end])
                bn.running_var.copy_(var[start:end])
            bn.num_batches_tracked.add_(1)
            start = end
    return y.view(x.shape)


IN_PLACE = {nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_}


def act_(act: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``act(x)``, in place for a ReLU, Tanh or Sigmoid on a tensor ``x`` that no op has saved and
    nothing reads after. With gradients only on a fresh tensor: in place on a view would cost
    autograd two copies in the backward pass, so views get a new tensor."""
    in_place = IN_PLACE.get(type(act))
    return in_place(x) if in_place is not None and (x._base is None or not torch.is_grad_enabled()) else act(x)


def add_(x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``x + other``; without gradients in place into ``x``, which nothing may read after (one
    full-size tensor less to allocate and fault in)."""
    return x + other if torch.is_grad_enabled() else x.add_(other)


class AppendGlobalJoint(torch.autograd.Function):
    """``cat([x, x.mean(-1, keepdim=True)], -1)``: DG-TCN's extra joint, the mean over joints.

    The backward pass is one op, ``grad[..., :V] + grad[..., V:] / V``, where autograd's would
    expand, divide and add the mean's gradient as three full-size tensors.
    """

    @staticmethod
    def forward(ctx, x):
        return torch.cat([x, x.mean(-1, keepdim=True)], -1)

    @staticmethod
    def backward(ctx, grad):
        v = grad.shape[-1] - 1
        return grad[..., :v] + grad[..., v:] / v


class FuseGlobalJoint(torch.autograd.Function):
    """``out[..., :V] + out[..., V:] * coeff``: DG-TCN's joint-skeleton fusion, the global joint's
    features added to every joint with a learned per-joint scale.

    It keeps only the global joint for the backward pass, and returns the input's gradient as one
    ``cat``, where autograd's would zero-fill and copy the gradient of each slice of ``out``.
    """

    @staticmethod
    def forward(ctx, out, coeff):
        v = coeff.shape[0]
        glob = out[..., v:].contiguous()
        ctx.save_for_backward(glob, coeff)
        return torch.addcmul(out[..., :v], glob, coeff.to(out.dtype))  # out's dtype under autocast

    @staticmethod
    def backward(ctx, grad):
        glob, coeff = ctx.saved_tensors
        grad_glob = torch.matmul(grad, coeff.to(grad.dtype))[..., None]  # sum over joints of grad * coeff
        grad_coeff = torch.matmul(grad.reshape(-1, grad.shape[-1]).t(), glob.reshape(-1).to(grad.dtype))
        return torch.cat([grad, grad_glob], -1), grad_coeff


# the gradients of the IN_PLACE activations, computed from their output
GRAD_FROM_OUTPUT = {
    nn.Tanh: torch.ops.aten.tanh_backward,
    nn.Sigmoid: torch.ops.aten.sigmoid_backward,
    nn.ReLU: lambda grad, out: torch.ops.aten.threshold_backward(grad, out, 0),
}


class ChannelGraph(torch.autograd.Function):
    """``A + act(x1[..., :, None] - x2[..., None, :]) * alpha``: DG-GCN's channel-wise topology
    refinement added to the graph, for an activation of ``GRAD_FROM_OUTPUT``.

    Two full-size tensors forward (the activated difference, kept for the backward pass, and the
    sum), where autograd's ops make three; backward, ``alpha``'s gradient is a dot product and the
    difference's gradient is summed before it is negated, where autograd's would multiply, negate
    and sum full-size tensors. A DG-GCN training step ran 3-6 % faster with it on a 2-core Xeon
    (64-256 channels, 32 sequences, medians of 21 interleaved steps).
    """

    @staticmethod
    def forward(ctx, A, x1, x2, alpha, act_type):
        diff = IN_PLACE[act_type](x1.unsqueeze(-1) - x2.unsqueeze(-2))
        ctx.save_for_backward(diff, alpha)
        ctx.act_type, ctx.A_shape = act_type, A.shape
        return torch.addcmul(A, diff, alpha)

    @staticmethod
    def backward(ctx, grad):
        diff, alpha = ctx.saved_tensors
        grad = grad.contiguous()
        grad_A = grad_alpha = grad_x1 = grad_x2 = None
        if ctx.needs_input_grad[0]:  # summed over the dimensions A was broadcast along
            dims = [i for i, (a, g) in enumerate(zip(ctx.A_shape, grad.shape)) if a == 1 and g > 1]
            grad_A = grad.sum(dims, keepdim=True) if dims else grad
        if ctx.needs_input_grad[3]:  # alpha: one scalar, or one per subset (dim 0)
            if alpha.dim() == 0:
                grad_alpha = torch.dot(grad.view(-1), diff.reshape(-1))
            else:
                k = grad.shape[0]
                grad_alpha = torch.bmm(grad.view(k, 1, -1), diff.reshape(k, -1, 1)).view(alpha.shape)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            grad_diff = GRAD_FROM_OUTPUT[ctx.act_type](grad, diff).mul_(alpha)
            grad_x1 = grad_diff.sum(-1)
            grad_x2 = grad_diff.sum(-2).neg_()
        return grad_A, grad_x1, grad_x2, grad_alpha, None


def channel_graph(A: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, alpha: torch.Tensor, act: nn.Module):
    """``A + act(x1[..., :, None] - x2[..., None, :]) * alpha`` (see ``ChannelGraph``)."""
    if type(act) in GRAD_FROM_OUTPUT and not tracing():
        if torch.is_grad_enabled() and any(t.requires_grad for t in (A, x1, x2, alpha)):
            return ChannelGraph.apply(A, x1, x2, alpha, type(act))
        return torch.addcmul(A, IN_PLACE[type(act)](x1.unsqueeze(-1) - x2.unsqueeze(-2)), alpha)
    return A + act_(act, x1.unsqueeze(-1) - x2.unsqueeze(-2)) * alpha


def act_temporal_conv(x: torch.Tensor, act: nn.Module, conv: nn.Conv2d, bn: nn.BatchNorm2d | None = None,
                      training: bool = False) -> torch.Tensor:
    """``conv(act(x))``, or ``bn(conv(act(x)))`` with a ``bn``, for a channel-major ``x`` and a
    ``(kernel, 1)`` convolution over time.

    The branches of the multi-scale temporal units have few channels (a sixth or a quarter of the
    block's), where ``conv2d`` on ``(N, C, T, V)`` measured twice as fast as products over shifted
    views, and faster than ``temporal_conv_bn``'s ``conv3d``; the activation runs in place on the
    transposed copy, so the convolution and the activation save one tensor between them. In eval
    ``bn`` is folded into the convolution. Returns a channel-major view.
    """
    z = act_(act, x.transpose(0, 1).clone(memory_format=torch.contiguous_format))  # C, N, T, V -> N, C, T, V
    if bn is None:
        return conv(z).transpose(0, 1)
    if training:
        return bn(conv(z)).transpose(0, 1)
    scale, shift = bn_scale_shift(bn)  # BN folded into the convolution in eval
    bias = shift if conv.bias is None else conv.bias * scale + shift
    y = F.conv2d(z, conv.weight * scale[:, None, None, None], bias, conv.stride, conv.padding, conv.dilation)
    return y.transpose(0, 1)


def temporal_conv_bn(x: torch.Tensor, conv: nn.Conv2d, bn: nn.BatchNorm2d, training: bool) -> torch.Tensor:
    """``bn(conv(x))`` for a channel-major ``x`` and a ``(kernel, 1)`` convolution over time, giving a
    channel-major output.

    The convolution runs as a ``(1, kernel, 1)`` ``conv3d`` of ``x`` viewed as one ``(C, N, T, V)``
    volume, so no transpose is needed either side; in eval the BatchNorm is folded into its weights.
    """
    weight, bias = conv.weight, conv.bias
    if not training:  # BN folded into the convolution in eval
        scale, shift = bn_scale_shift(bn)
        weight = weight * scale[:, None, None, None]
        bias = shift if bias is None else bias * scale + shift
    y = F.conv3d(x[None], weight[:, :, None], bias, stride=(1, conv.stride[0], 1), padding=(0, conv.padding[0], 0),
                 dilation=(1, conv.dilation[0], 1))[0]
    return batch_norm(y, bn, True) if training else y


def temporal_max_pool(x: torch.Tensor, pool: nn.MaxPool2d) -> torch.Tensor:
    """``pool`` (a ``(kernel, 1)`` max-pooling over time) of a channel-major ``x``.

    Without gradients: the maximum of ``kernel`` shifted views, which measured several times
    faster than ``max_pool2d``; with gradients ``max_pool2d`` itself, whose backward passes each
    tie to the first maximum of its window.
    """
    if torch.is_grad_enabled() and x.requires_grad:
        return pool(x)  # channels act as the batch, samples as channels
    k, s, p = pool.kernel_size[0], pool.stride[0], pool.padding[0]
    t_out = (x.shape[2] + 2 * p - k) // s + 1
    padded = F.pad(x, (0, 0, p, p), value=float('-inf')) if p else x
    span = (t_out - 1) * s + 1
    out = padded[:, :, :span:s]
    for j in range(1, k):
        out = torch.maximum(out, padded[:, :, j:j + span:s])
    return out


class SummedAggregation(torch.autograd.Function):
    """``sum_k features[k] @ graphs[k]`` for ``features (K, B, T, V)`` and ``graphs (K, B, V, V)``:
    every subset's aggregation, summed over the subsets, ``(B, T, V)``. CTR-GC aggregates each
    (channel, sample) with its own graph (B of them); ST-GCN's unit all rows with one (B = 1).

    Forward, the subsets accumulate into one output (baddbmm), with no K-fold tensor to sum;
    backward, each subset's gradients are written into one tensor for all of them, where autograd
    would make one per subset and concatenate them for the product that made ``features``.
    """

    @staticmethod
    def forward(ctx, features, graphs):
        ctx.save_for_backward(features, graphs)
        out = torch.bmm(features[0], graphs[0])
        for k in range(1, features.shape[0]):
            out.baddbmm_(features[k], graphs[k])
        return out

    @staticmethod
    def backward(ctx, grad):
        features, graphs = ctx.saved_tensors
        grad = grad.contiguous()
        grad_features = grad_graphs = None
        if ctx.needs_input_grad[0]:
            grad_features = torch.empty_like(features)
            for k in range(features.shape[0]):
                torch.bmm(grad, graphs[k].transpose(1, 2), out=grad_features[k])
        if ctx.needs_input_grad[1]:
            grad_graphs = torch.empty_like(graphs)
            for k in range(graphs.shape[0]):
                torch.bmm(features[k].transpose(1, 2), grad, out=grad_graphs[k])
        return grad_features, grad_graphs


def summed_aggregation(features: torch.Tensor, graphs: torch.Tensor) -> torch.Tensor:
    """``sum_k features[k] @ graphs[k]`` (see ``SummedAggregation``); plain ops while tracing."""
    if tracing():
        return sum(torch.bmm(f, g) for f, g in zip(features, graphs))
    return SummedAggregation.apply(features, graphs)
