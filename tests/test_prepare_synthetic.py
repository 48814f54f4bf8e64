"""The synthetic ML-1M generator: determinism, formats, vocabularies, learnability."""
import time

import numpy as np
import pytest

import prepareDataset
from prep_helpers import snapshot, write_tiny
from prepare_data import (PrepareError, load_feature_sizes, load_samples, prepare_movielens,
                          write_synthetic_movielens)
from prepare_data.synthetic import GENRES, N_DIRECTORS, T_END, T_START
from prepare_data.vocab import AGES, RATES

FILES = ('ratings.dat', 'users.dat', 'movies.dat', 'movies_extrainfos.dat',
         'List_genre.txt', 'List_director.txt')


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    raw = tmp_path_factory.mktemp('syn') / 'raw'
    write_synthetic_movielens(raw, n_users=300, seed=0)
    return raw


def test_same_seed_same_bytes_other_seed_differs(synthetic, tmp_path):
    write_synthetic_movielens(tmp_path / 'a', n_users=300, seed=0)
    write_synthetic_movielens(tmp_path / 'b', n_users=300, seed=1)
    same, other = snapshot(tmp_path / 'a'), snapshot(tmp_path / 'b')
    assert same == snapshot(synthetic)
    assert same['ratings.dat'] != other['ratings.dat']
    assert same['users.dat'] != other['users.dat']


def test_formats_and_vocabularies(synthetic):
    read = lambda name, enc='utf-8': (synthetic / name).read_bytes().decode(enc)
    users = [line.split('::') for line in read('users.dat').splitlines()]
    assert len(users) == 300 and {len(u) for u in users} == {5}
    assert {u[1] for u in users} == {'M', 'F'}
    assert {int(u[2]) for u in users} <= set(AGES)
    assert {int(u[3]) for u in users} <= set(range(21))

    genres = read('List_genre.txt')
    directors = read('List_director.txt')
    assert genres.endswith('\r\n') and directors.count('\r\n') == N_DIRECTORS
    assert genres.split('\r\n')[:-1] == list(GENRES) and 'nan' in GENRES
    assert len(set(directors.split('\r\n')[:-1])) == N_DIRECTORS
    assert 'nan' in directors.split('\r\n')

    extra = read('movies_extrainfos.dat')
    rows = [line.split('::') for line in extra.split('\r\n')[:-1]]
    assert {len(r) for r in rows} == {11}
    assert {r[3] for r in rows} <= set(RATES)
    assert any(r[5] == 'N/A' for r in rows) and any(r[6] == 'N/A' for r in rows)
    assert any('(co-director)' in r[6] for r in rows)
    assert all(1919 <= int(r[2]) <= 2000 for r in rows)

    movies = read('movies.dat', 'latin-1').splitlines()
    assert {len(m.split('::')) for m in movies} == {3}

    ratings = np.array([line.split('::') for line in read('ratings.dat').split()], np.int64)
    assert set(ratings[:, 2]) == {1, 2, 3, 4, 5}
    assert T_START <= ratings[:, 3].min() and ratings[:, 3].max() <= T_END
    # no user rates a movie twice; every rated movie is in movies.dat
    assert len(np.unique(ratings[:, 0] * 10_000 + ratings[:, 1])) == len(ratings)
    assert set(ratings[:, 1]) <= {int(m.split('::')[0]) for m in movies}


def test_prepares_with_warm_and_cold_users_and_items(synthetic, tmp_path):
    stats = prepare_movielens(synthetic, tmp_path / 'out', log=lambda *a: None)
    assert stats['warm_users'] > 0 and stats['cold_users'] > 0
    assert 0.05 < stats['cold_users'] / stats['users_kept'] < 0.25
    assert stats['warm_items'] > 0 and stats['cold_items'] > 0
    samples = load_samples(tmp_path / 'out')
    assert len(samples) == stats['users_kept']
    s = samples[0]
    assert s.x2.shape == (20, 2213) and s.x2.dtype == np.int64
    assert s.x1.shape == (3,) and s.y.shape == s.y0.shape == (20,)
    assert set(np.concatenate([x.y0 for x in samples])) == {0, 1, 2, 3}
    sizes = load_feature_sizes(tmp_path / 'out')
    assert (sizes['n_genre'], sizes['n_director']) == (25, 2186)
    assert 2 + sizes['n_genre'] + sizes['n_director'] == 2213


def test_ratings_depend_on_features(synthetic, tmp_path):
    """A linear model of one-hot user features, rate and genres beats the mean."""
    prepare_movielens(synthetic, tmp_path / 'out', log=lambda *a: None)
    samples = load_samples(tmp_path / 'out')
    x1 = np.concatenate([np.repeat(s.x1[None], len(s), 0) for s in samples])
    x2 = np.concatenate([s.x2[:, :27] for s in samples])
    y = np.concatenate([s.y for s in samples]).astype(float)
    X = np.hstack([np.eye(2)[x1[:, 0]], np.eye(7)[x1[:, 1]], np.eye(21)[x1[:, 2]],
                   np.eye(6)[x2[:, 0]], x2[:, 2:]])
    train = np.arange(len(y)) < 0.8 * len(y)
    w = np.linalg.lstsq(X[train], y[train], rcond=None)[0]
    mse = ((X[~train] @ w - y[~train]) ** 2).mean()
    assert mse < 0.95 * y[~train].var()


def test_tiny_is_fast(tmp_path):
    t = time.perf_counter()
    write_synthetic_movielens(tmp_path / 'raw', n_users=30, seed=3)
    prepare_movielens(tmp_path / 'raw', tmp_path / 'out', log=lambda *a: None)
    assert time.perf_counter() - t < 1.0
    assert len(load_samples(tmp_path / 'out')) > 20


def test_refuses_to_overwrite_real_data_and_reuses_its_own(tmp_path):
    real = write_tiny(tmp_path / 'real')
    with pytest.raises(PrepareError, match='not written by --synthetic'):
        write_synthetic_movielens(real, n_users=30)
    info = write_synthetic_movielens(tmp_path / 'syn', n_users=30, seed=2)
    assert not info['reused']
    assert write_synthetic_movielens(tmp_path / 'syn', n_users=30, seed=2)['reused']
    assert not write_synthetic_movielens(tmp_path / 'syn', n_users=31, seed=2)['reused']


def test_cli_synthetic_then_prepare(tmp_path, capsys):
    args = ['--synthetic', '--users', '40', '--seed', '5', '--raw-dir', str(tmp_path / 'raw'),
            '--out-dir', str(tmp_path / 'out')]
    assert prepareDataset.main(args) == 0
    out = capsys.readouterr().out
    assert 'synthetic ML-1M (40 users, seed 5' in out and 'split_time' in out
    assert prepareDataset.main(args) == 0
    out = capsys.readouterr().out
    assert 'already present' in out and 'up to date' in out
