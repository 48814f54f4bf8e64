"""Shared fixtures: MindSpore on CPU, and a tiny prepared synthetic dataset."""
import pytest

from prepare_data import prepare_movielens, write_synthetic_movielens

# Small, fast settings for model tests; the architecture is the same as the default one.
TINY = {'embedding_dim': 16, 'meta_batch': 4}


@pytest.fixture(scope='session', autouse=True)
def mindspore_cpu():
    from mamorec import configure_runtime
    configure_runtime('CPU')


@pytest.fixture(scope='session')
def prepared_dir(tmp_path_factory):
    """A prepared synthetic ML-1M with 40 users (about 31 train, 8 test)."""
    root = tmp_path_factory.mktemp('ml')
    write_synthetic_movielens(root / 'raw', n_users=40, seed=3)
    prepare_movielens(root / 'raw', root / 'out', log=lambda *a, **k: None)
    return str(root / 'out')
