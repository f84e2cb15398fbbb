import collections
import os
import pickle
import stat

import numpy as np
import pytest

from pyskl.utils import UnsafePickleError, dump_pickle, load_pickle


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


class _EvalsCode:
    def __reduce__(self):
        return eval, ("__import__('os').getcwd()",)


def _sample_obj():
    return {
        'split': {'train': ['a', 'b']},
        'annotations': [
            dict(frame_dir='a', label=3, total_frames=5, keypoint=np.arange(30, dtype=np.float16).reshape(1, 5, 2, 3),
                 score=np.float32(0.5), n=np.int64(7), flag=np.bool_(True), dt=np.dtype('float32'),
                 names=np.array(['x', 'yz']), shape=(1080, 1920), tags={'a', 'b'}, raw=b'\x00\xff',
                 od=collections.OrderedDict(k=1), c=1 + 2j, fortran=np.asfortranarray(np.ones((3, 2))))
        ]
    }


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_round_trip_numpy_and_plain_types(tmp_path, protocol):
    obj = _sample_obj()
    path = tmp_path / 'ann.pkl'
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    back = load_pickle(path)
    a, b = obj['annotations'][0], back['annotations'][0]
    assert back['split'] == obj['split']
    assert b['keypoint'].dtype == np.float16
    np.testing.assert_array_equal(a['keypoint'], b['keypoint'])
    for key in ('label', 'total_frames', 'score', 'n', 'flag', 'dt', 'shape', 'tags', 'raw', 'od', 'c'):
        assert b[key] == a[key], key
        assert type(b[key]) is type(a[key]), key
    np.testing.assert_array_equal(a['names'], b['names'])
    np.testing.assert_array_equal(a['fortran'], b['fortran'])


@pytest.mark.parametrize('protocol', [0, 2, 5])
def test_refuses_os_system_without_running_it(tmp_path, protocol):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pkl'
    with open(path, 'wb') as f:
        pickle.dump({'annotations': [_RunsShell(marker)]}, f, protocol=protocol)
    with pytest.raises(UnsafePickleError) as info:
        load_pickle(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f'refusing to unpickle {os.system.__module__}.system' in msg
    assert 'annotation and result files may only hold numpy arrays and plain Python types' in msg
    assert not marker.exists()
    assert isinstance(info.value, ValueError)


def test_refuses_eval_and_arbitrary_classes(tmp_path):
    path = tmp_path / 'evil.pkl'
    with open(path, 'wb') as f:
        pickle.dump(_EvalsCode(), f)
    with pytest.raises(UnsafePickleError, match='builtins.eval'):
        load_pickle(path)
    with open(path, 'wb') as f:
        pickle.dump(collections.Counter(a=1), f)
    with pytest.raises(UnsafePickleError, match='collections.Counter'):
        load_pickle(path)


def test_refuses_numpy_object_loader_functions(tmp_path):
    # numpy has callables that would unpickle nested data unsafely (np.load with allow_pickle)
    path = tmp_path / 'evil.pkl'
    path.write_bytes(b'cnumpy\nload\n(Vx.npy\ntR.')
    with pytest.raises(UnsafePickleError, match='numpy.load'):
        load_pickle(path)


def test_truncated_file_names_path(tmp_path):
    path = tmp_path / 'cut.pkl'
    path.write_bytes(pickle.dumps(_sample_obj())[:50])
    with pytest.raises(ValueError, match='cut.pkl: not a readable annotation pickle'):
        load_pickle(path)


def test_dump_is_atomic_and_readable(tmp_path):
    path = tmp_path / 'sub' / 'out.pkl'
    dump_pickle(_sample_obj(), path)
    assert load_pickle(path)['split'] == {'train': ['a', 'b']}
    assert os.listdir(path.parent) == ['out.pkl']  # no temp file left behind
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & stat.S_IRUSR and mode & stat.S_IWUSR
    # A failing dump leaves the previous file untouched and no temp file.
    with pytest.raises(Exception):
        dump_pickle({'bad': lambda: 0}, path)
    assert load_pickle(path)['split'] == {'train': ['a', 'b']}
    assert os.listdir(path.parent) == ['out.pkl']


def test_reads_numpy1_pickles(tmp_path):
    # numpy 1.x writes numpy.core.* names; files released with the original PYSKL have them.
    data = pickle.dumps({'k': np.arange(6, dtype=np.float16).reshape(2, 3), 's': np.float32(2.0)}, protocol=2)
    legacy = data.replace(b'numpy._core.', b'numpy.core.')
    assert legacy != data
    path = tmp_path / 'legacy.pkl'
    path.write_bytes(legacy)
    back = load_pickle(path)
    np.testing.assert_array_equal(back['k'], np.arange(6, dtype=np.float16).reshape(2, 3))
    assert back['s'] == np.float32(2.0)


def test_loads_pickle_from_bytes():
    from pyskl.utils import loads_pickle
    assert loads_pickle(pickle.dumps({'a': (1, 2)}))['a'] == (1, 2)
    with pytest.raises(UnsafePickleError, match='cache.bin: refusing to unpickle builtins.eval'):
        loads_pickle(pickle.dumps(_EvalsCode()), 'cache.bin')
