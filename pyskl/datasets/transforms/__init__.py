"""Skeleton transforms, registered in ``pyskl.registry.TRANSFORMS`` under the
original PYSKL names and arguments, so original configs run unchanged."""
from .augment import MirroredClips, RandomFlip, RandomGaussianNoise, RandomRot, RandomScale
from .compose import Compose
from .decompress import DecompressPose
from .features import GenSkeFeat, JointToBone, MergeSkeFeat, Rename, ToMotion
from .formatting import Collect, FormatGCNInput, PackSkeletonInputs, ToTensor
from .normalize import PreNormalize2D, PreNormalize3D
from .sampling import PadTo, PoseDecode, UniformSample, UniformSampleDecode, UniformSampleFrames

__all__ = [
    'Compose', 'DecompressPose', 'PreNormalize3D', 'PreNormalize2D', 'RandomRot', 'RandomScale', 'RandomGaussianNoise', 'RandomFlip',
    'MirroredClips', 'JointToBone', 'ToMotion', 'MergeSkeFeat', 'GenSkeFeat', 'Rename', 'UniformSampleFrames',
    'UniformSample', 'PoseDecode', 'UniformSampleDecode', 'PadTo', 'FormatGCNInput', 'Collect', 'ToTensor',
    'PackSkeletonInputs'
]
