"""Loading a config: --cfg-options checked and applied, and the translation done by one function
(pyskl.runner.config.load_config) for training, testing and inference alike."""
import ast
import copy
from pathlib import Path

import pytest
from mmengine.config import Config

from pyskl.runner import load_config
from pyskl.runner.legacy_config import LEGACY_KEYS

REPO = Path(__file__).resolve().parents[2]
NTU60_J = REPO / 'configs' / 'dgstgcn' / 'ntu60_xsub_3dkp' / 'j.py'


def test_a_cfg_option_of_the_wrong_type_names_the_key():
    with pytest.raises(TypeError, match=r"--cfg-options data.videos_per_gpu='abc': data.videos_per_gpu is int "
                                        r'in .*j.py \(16\); give a int'):
        load_config(str(NTU60_J), {'data.videos_per_gpu': 'abc'})
    with pytest.raises(TypeError, match='optimizer.lr is float'):
        load_config(str(NTU60_J), {'optimizer.lr': True})
    cfg = load_config(str(NTU60_J), {'data.videos_per_gpu': 8, 'optimizer.lr': 1, 'data.train.times': 2})
    assert cfg.train_dataloader.batch_size == 8 and cfg.optim_wrapper.optimizer.lr == 1
    assert cfg.legacy_keys == sorted(cfg.legacy_keys) and 'data' in cfg.legacy_keys


def test_a_path_and_a_config_object_load_the_same_and_loading_twice_changes_nothing():
    from_path = load_config(NTU60_J)  # a pathlib.Path is fine too
    original = Config.fromfile(str(NTU60_J))
    before = copy.deepcopy(original.to_dict())
    from_object = load_config(original, {'data.videos_per_gpu': 8})
    assert original.to_dict() == before  # the caller's config is left as it was
    assert from_object.train_dataloader.batch_size == 8 and from_path.train_dataloader.batch_size == 16
    assert not any(key in from_path for key in LEGACY_KEYS) and from_path.default_scope == 'pyskl'
    assert load_config(from_path).to_dict() == from_path.to_dict()
    assert load_config(from_path).filename == from_path.filename == str(NTU60_J)


def test_load_config_refuses_what_is_not_a_config():
    with pytest.raises(TypeError, match='config must be a file path or an mmengine Config, got dict'):
        load_config(dict(model=None))


def test_only_load_config_translates():
    """Every caller in pyskl and tools translates through load_config, never on its own."""
    callers = []
    for path in sorted([*REPO.glob('pyskl/**/*.py'), *REPO.glob('tools/**/*.py')]):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', getattr(node.func, 'attr', None)) \
                    == 'translate_legacy_config':
                callers.append(str(path.relative_to(REPO)))
    assert callers == ['pyskl/runner/config.py']
