"""The synthetic Book-Crossing dump: determinism, the dump's format, what the preparation
must filter, learnability, the real-data guard and the CLI."""
import json
import time

import numpy as np
import pytest

import prepareDataset
from prep_helpers import snapshot, write_tiny
from test_prepare_bookcrossing_data import write_tiny_bx
from prepare_data import (PrepareError, load_feature_sizes, load_samples, load_vocab,
                          prepare_bookcrossing, write_synthetic_bookcrossing,
                          write_synthetic_movielens)
from prepare_data.bx_readers import HEADERS, RAW_FILES

QUIET = {'log': lambda *a: None}


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp('bxsyn')
    write_synthetic_bookcrossing(root / 'raw', n_users=300, seed=0)
    stats = prepare_bookcrossing(root / 'raw', root / 'out', **QUIET)
    return root / 'raw', root / 'out', stats


def test_same_seed_same_bytes_other_seed_differs(synthetic, tmp_path):
    write_synthetic_bookcrossing(tmp_path / 'a', n_users=300, seed=0)
    write_synthetic_bookcrossing(tmp_path / 'b', n_users=300, seed=1)
    same, other = snapshot(tmp_path / 'a'), snapshot(tmp_path / 'b')
    assert same == snapshot(synthetic[0])
    for name in RAW_FILES:
        assert same[name] != other[name]


def test_the_dumps_format(synthetic):
    raw = synthetic[0]
    for name in RAW_FILES:
        data = (raw / name).read_bytes()
        assert data.count(b'\r\n') == data.count(b'\n')                    # CRLF
        first = data.split(b'\r\n', 1)[0].decode('ascii')
        assert first == ';'.join(f'"{h}"' for h in HEADERS[name])
    users = (raw / 'BX-Users.csv').read_bytes()
    assert b';NULL\r\n' in users                                            # bare NULL age
    assert 'österreich'.encode('cp1252') in users
    books = (raw / 'BX-Books.csv').read_bytes()
    assert b'&amp;' in books and b'\x92' in books and b'\\"' in books      # cp1252 ’
    assert any(ch in books for ch in ('ö'.encode('cp1252'), 'é'.encode('cp1252')))
    with pytest.raises(UnicodeDecodeError):
        books.decode('utf-8')


def test_it_exercises_every_filter(synthetic):
    stats = synthetic[2]
    for name in ('BX-Users.csv', 'BX-Books.csv', 'BX-Book-Ratings.csv'):
        assert stats['bad_lines'][name] > 0, name
    for key in ('users_age_missing', 'users_age_out_of_range', 'users_no_country',
                'books_year_out_of_range', 'implicit_ratings',
                'ratings_without_user_profile', 'ratings_without_book_profile',
                'users_dropped', 'warm_users', 'cold_users', 'warm_items', 'cold_items'):
        assert stats[key] > 0, key
    assert stats['users_kept'] > 150
    assert 0.05 < stats['cold_users'] / stats['users_kept'] < 0.15


def test_samples_sizes_and_scenarios(synthetic):
    out = synthetic[1]
    samples = load_samples(out)
    sizes = load_feature_sizes(out)
    assert set(sizes) == {'n_age_bk', 'n_location', 'n_year_bk', 'n_author', 'n_publisher'}
    x1 = np.stack([s.x1 for s in samples])
    x2 = np.concatenate([s.x2 for s in samples])
    assert x2.shape[1] == 3
    assert x1[:, 0].max() < sizes['n_age_bk'] and x1[:, 1].max() < sizes['n_location']
    for col, key in enumerate(('n_author', 'n_year_bk', 'n_publisher')):
        assert x2[:, col].max() < sizes[key] and x2[:, col].min() >= 0
    assert set(np.concatenate([s.y0 for s in samples])) == {0, 1, 2, 3}
    y = np.concatenate([s.y for s in samples])
    assert y.min() >= 1 and y.max() <= 10 and len(set(y)) >= 8
    vocab = load_vocab(out)
    assert vocab['countries'] == sorted(vocab['countries'])
    assert 'Simon & Schuster' in vocab['publishers']                      # &amp; decoded
    assert all(1500 <= v <= 2010 for v in vocab['years'])


def test_ratings_depend_on_features(synthetic):
    """A linear model of one-hot features beats the mean on held-out users."""
    samples = load_samples(synthetic[1])
    sizes = load_feature_sizes(synthetic[1])
    x1 = np.concatenate([np.repeat(s.x1[None], len(s), 0) for s in samples])
    x2 = np.concatenate([s.x2 for s in samples])
    y = np.concatenate([s.y for s in samples]).astype(float)
    X = np.hstack([np.eye(sizes['n_age_bk'])[x1[:, 0]], np.eye(sizes['n_location'])[x1[:, 1]],
                   np.eye(sizes['n_author'])[x2[:, 0]],
                   np.eye(sizes['n_publisher'])[x2[:, 2]]])
    train = np.arange(len(y)) < 0.8 * len(y)
    w = np.linalg.lstsq(X[train], y[train], rcond=None)[0]
    mse = ((X[~train] @ w - y[~train]) ** 2).mean()
    assert mse < 0.9 * y[~train].var()


def test_small_is_fast(tmp_path):
    t = time.perf_counter()
    write_synthetic_bookcrossing(tmp_path / 'raw', n_users=60, seed=4)
    prepare_bookcrossing(tmp_path / 'raw', tmp_path / 'out', **QUIET)
    assert time.perf_counter() - t < 1.0
    assert len(load_samples(tmp_path / 'out')) > 30


def test_refuses_to_overwrite_real_data_and_reuses_its_own(tmp_path):
    real = write_tiny_bx(tmp_path / 'real')
    before = snapshot(real)
    with pytest.raises(PrepareError, match='not written by --synthetic'):
        write_synthetic_bookcrossing(real, n_users=30)
    assert snapshot(real) == before
    ml = tmp_path / 'ml'
    write_synthetic_movielens(ml, n_users=30)
    with pytest.raises(PrepareError, match='holds synthetic movielens data'):
        write_synthetic_bookcrossing(ml, n_users=30)
    assert not write_synthetic_bookcrossing(tmp_path / 'syn', n_users=30, seed=2)['reused']
    assert write_synthetic_bookcrossing(tmp_path / 'syn', n_users=30, seed=2)['reused']
    info = write_synthetic_bookcrossing(tmp_path / 'syn', n_users=31, seed=2)
    assert not info['reused']
    marker = json.loads((tmp_path / 'syn' / 'SYNTHETIC.json').read_text())
    assert marker['dataset'] == 'bookcrossing' and marker['n_users'] == 31


def test_movielens_generator_still_guards_its_folder(tmp_path):
    write_tiny(tmp_path / 'ml')
    with pytest.raises(PrepareError):
        write_synthetic_movielens(tmp_path / 'ml', n_users=30)


def test_cli_synthetic_then_prepare(tmp_path, capsys):
    args = ['--dataset', 'bookcrossing', '--synthetic', '--users', '80', '--seed', '5',
            '--raw-dir', str(tmp_path / 'raw'), '--out-dir', str(tmp_path / 'out')]
    assert prepareDataset.main(args) == 0
    out = capsys.readouterr().out
    assert 'synthetic Book-Crossing (80 users, seed 5' in out and 'num warm users' in out
    assert prepareDataset.main(args) == 0
    out = capsys.readouterr().out
    assert 'already present' in out and 'up to date' in out
