"""An offline, ML-1M-shaped synthetic dataset (the demo data and the tests' data).

``write_synthetic_movielens(raw_dir, n_users=300, seed=0)`` writes the six raw files in
MovieLens-1M's formats and vocabularies.  Ratings follow a latent-factor model of the
user and item *features* plus noise, so a model that reads the features can learn them.
Everything is drawn from one ``numpy.random.Generator(seed)``: same seed, same bytes.
With ``n_users=6040`` the shape matches ML-1M (about 1,000,209 ratings, 3,883 movies,
2,186 directors, 25 genres including 'nan').
"""
import json
import os
from pathlib import Path

import numpy as np

from .errors import PrepareError
from .vocab import AGES, GENDERS, N_OCCUPATION, RATES

GENRES = ('Action', 'Adult', 'Adventure', 'Animation', 'Biography', 'Comedy', 'Crime',
          'Documentary', 'Drama', 'Family', 'Fantasy', 'Film-Noir', 'History', 'Horror',
          'Music', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Short', 'Sport', 'Thriller',
          'War', 'Western', 'nan')
N_DIRECTORS = 2186                       # including 'nan'
FULL_USERS, FULL_MOVIES, FULL_RATINGS = 6040, 3883, 1000209
T_START = 956620800                      # 2000-04-25 00:00 UTC
T_SPLIT_GUIDE = 975628800                # 2000-12-01: later joiners are mostly cold users
T_END = 1046476799                       # 2003-02-28 23:59:59 UTC
_FIRST = ('Anna', 'Ben', 'Carla', 'David', 'Elena', 'Frank', 'Greta', 'Hugo', 'Ines', 'Jack',
          'Karin', 'Leo', 'Maria', 'Nils', 'Olga', 'Paul', 'Rosa', 'Sam', 'Tina', 'Victor',
          'Wanda', 'Yusuf', 'Zoe', 'Agnès', 'Jürgen', 'Søren', 'José', 'Chloé', 'Björn',
          'Ana María', 'Lee', 'Kenji', 'Mei', 'Omar', 'Priya', 'Raúl', 'Sven', 'Ugo', 'Vera',
          'Walt', 'Xavier', 'Yoko', 'Zbigniew', 'Alan', 'Beth', 'Carl', 'Dora', 'Emil')
_LAST = ('Abbott', 'Becker', 'Costa', 'Dörrie', 'Evans', 'Fischer', 'García', 'Hughes',
         'Ivanov', 'Jensen', 'Kowalski', 'Larsen', 'Moreau', 'Novak', "O'Brien", 'Petrov',
         'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ulrich', 'Varga', 'Weber', 'Xu', 'Young',
         'Zhang', 'Almodóvar', 'Brandt', 'Chen', 'Dunn', 'Ekberg', 'Flores', 'Grant', 'Holm',
         'Ito', 'Jones', 'Kim', 'Lopez', 'Meyer', 'Nakamura', 'Olsen', 'Park', 'Reyes',
         'Silva', 'Torres', 'Vogel', 'Walsh', 'de la Cruz', 'van Dijk', 'Hall')
_WORDS = ('Silent', 'River', 'Night', 'Summer', 'Last', 'City', 'Dark', 'Golden', 'Road',
          'Heart', 'Storm', 'Little', 'Secret', 'Star', 'Blue', 'Winter', 'House', 'Game')
_MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')
# ML-1M's rating marginals (1..5), to place the score thresholds.
_RATING_SHARES = (0.056, 0.108, 0.261, 0.349, 0.226)
_DIM = 8
MARKER = 'SYNTHETIC.json'                # marks a raw folder this generator wrote
GENERATOR_VERSION = 1
RAW_NAMES = ('ratings.dat', 'users.dat', 'movies.dat', 'movies_extrainfos.dat',
             'List_genre.txt', 'List_director.txt')


def _directors(rng):
    pairs = rng.permutation(len(_FIRST) * len(_LAST))[:N_DIRECTORS - 1]
    names = [f"{_FIRST[p // len(_LAST)]} {_LAST[p % len(_LAST)]}" for p in pairs]
    return names[:7] + ['nan'] + names[7:]


def _movies(rng, n_movies, directors):
    """Per-movie ids and features: rate, year, genre sets, director name lists."""
    span = max(n_movies, round(n_movies * 3952 / FULL_MOVIES))
    ids = np.sort(rng.choice(np.arange(1, span + 1), n_movies, replace=False))
    rate = rng.choice(len(RATES), n_movies, p=[0.15, 0.21, 0.005, 0.155, 0.045, 0.435])
    skew = np.where(rng.random(n_movies) < 0.25, rng.random(n_movies), rng.beta(4.0, 1.2, n_movies))
    year = 1919 + np.minimum(81, (82 * skew).astype(np.int64))     # 1919..2000, mostly recent
    real_genres = np.array([g for g in GENRES if g != 'nan'])
    n_genre = rng.choice([1, 2, 3, 4], n_movies, p=[0.17, 0.31, 0.5, 0.02])
    genres = [list(rng.choice(real_genres, k, replace=False)) for k in n_genre]
    names = [d for d in directors if d != 'nan']
    popularity = rng.pareto(1.2, len(names)) + 1
    n_dir = rng.choice([1, 2, 3, 4], n_movies, p=[0.945, 0.04, 0.01, 0.005])
    dirs = [list(rng.choice(names, k, replace=False, p=popularity / popularity.sum()))
            for k in n_dir]
    for d in dirs:                        # co-directors carry a note, as in the real file
        if len(d) > 1 and rng.random() < 0.3:
            d[1] = d[1] + '(co-director)'
    for k in rng.choice(n_movies, max(1, round(5 * n_movies / FULL_MOVIES)), replace=False):
        genres[k] = ['N/A']
    for k in rng.choice(n_movies, max(1, round(12 * n_movies / FULL_MOVIES)), replace=False):
        dirs[k] = ['N/A']
    return ids, rate, year, genres, dirs


def _ratings_per_user(rng, n_users, n_movies):
    counts = 20 + np.floor(rng.lognormal(4.376, 1.1, n_users)).astype(np.int64)
    counts = np.minimum(counts, max(20, min(2314, int(0.6 * n_movies))))
    few = rng.random(n_users) < 0.01      # a few users below 20 ratings (dropped)
    counts[few] = rng.integers(5, 20, few.sum())
    if n_users == FULL_USERS:             # match ML-1M's total exactly
        room = np.flatnonzero((counts > 20) & (counts < 2314))
        diff = FULL_RATINGS - counts.sum()
        step = np.sign(diff)
        for k in rng.choice(room, abs(int(diff)), replace=abs(int(diff)) > len(room)):
            counts[k] += step
    return counts


def _choose_items(rng, counts, weights):
    """Per user, counts[u] distinct items drawn by weight (exponential race)."""
    out = []
    n_items = len(weights)
    for lo in range(0, len(counts), 512):
        block = counts[lo:lo + 512]
        # -log(1 - U) is Exp(1); U < 1 so the log is finite
        keys = -np.log1p(-rng.random((len(block), n_items), dtype=np.float32)) / weights
        order = np.argsort(keys, axis=1)
        out.append(order[np.arange(n_items)[None, :] < block[:, None]])
    return np.concatenate(out)


def _timestamps(rng, user_of, counts, cold_joiner):
    """Sessions: a join time per user, then seconds-apart ratings and a tail of revisits."""
    n_users = len(counts)
    warm_join = T_START + rng.beta(1.6, 1.2, n_users) * (T_SPLIT_GUIDE - T_START)
    cold_join = T_SPLIT_GUIDE + 6 * 86400 + rng.beta(1.0, 2.5, n_users) * (
        T_END - 40 * 86400 - T_SPLIT_GUIDE)
    join = np.where(cold_joiner, cold_join, warm_join).astype(np.int64)
    gaps = np.floor(rng.exponential(45.0, len(user_of))).astype(np.int64)
    gaps[rng.random(len(user_of)) < 0.06] = 0             # same-second ties, as in ML-1M
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    session = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts] - gaps[starts], counts)
    revisit = rng.random(len(user_of)) < 0.12
    later = (rng.beta(0.6, 3.0, len(user_of)) * (T_END - join[user_of])).astype(np.int64)
    t = join[user_of] + np.where(revisit, later, session)
    return np.minimum(t, T_END)


def _scores(rng, gender, age, occ, rate, year, genre_sets, dir_sets, genre_of, dir_of,
            user_of, item_of):
    """Latent-factor scores from the features, plus noise."""
    def table(n):
        return rng.normal(0.0, 0.5, (n, _DIM))
    u = table(len(GENDERS))[gender] + table(len(AGES))[age] + table(N_OCCUPATION)[occ]
    g_emb, d_emb = table(len(GENRES)), table(N_DIRECTORS)
    v = table(len(RATES))[rate] + table(9)[np.minimum((year - 1919) // 10, 8)]
    v += np.stack([g_emb[[genre_of[g] for g in s]].mean(0) for s in genre_sets])
    v += np.stack([d_emb[[dir_of[d] for d in s]].mean(0) for s in dir_sets])
    # Biases come from the features too (no per-id noise a feature model cannot see).
    def bias(n, scale):
        return rng.normal(0.0, scale, n)
    g_bias, d_bias = bias(len(GENRES), 0.3), bias(N_DIRECTORS, 0.4)
    item_bias = (bias(len(RATES), 0.3)[rate]
                 + np.array([g_bias[[genre_of[g] for g in s]].mean() for s in genre_sets])
                 + np.array([d_bias[[dir_of[d] for d in s]].mean() for s in dir_sets]))
    user_bias = (bias(len(GENDERS), 0.2)[gender] + bias(len(AGES), 0.3)[age]
                 + bias(N_OCCUPATION, 0.3)[occ])
    s = (u[user_of] * v[item_of]).sum(1) + item_bias[item_of] + user_bias[user_of]
    return s + rng.normal(0.0, 0.7, len(s))


def _to_ratings(scores):
    cuts = np.quantile(scores, np.cumsum(_RATING_SHARES)[:-1])
    return 1 + np.searchsorted(cuts, scores)


def _write_lines(path, lines, encoding, newline):
    tmp = Path(f"{path}.part")
    with open(tmp, 'w', encoding=encoding, newline='') as f:
        f.write(newline.join(lines) + newline)
    os.replace(tmp, path)


def write_synthetic_movielens(raw_dir, n_users=300, seed=0):
    """Write a synthetic ML-1M raw folder to ``raw_dir``; return its description.

    Refuses (PrepareError) to overwrite raw files that this generator did not write,
    so real MovieLens data is never replaced.  A folder already holding the same
    synthetic data (same n_users, seed and generator version) is left as it is.
    """
    if n_users < 1:
        raise PrepareError(f"--users must be at least 1, not {n_users}")
    raw = Path(raw_dir)
    marker = raw / MARKER
    wanted = {'generator_version': GENERATOR_VERSION, 'n_users': int(n_users),
              'seed': int(seed)}
    if any((raw / n).exists() for n in RAW_NAMES):
        if not marker.is_file():
            raise PrepareError(f"{raw}: holds MovieLens files not written by --synthetic; "
                               f"delete them or pass another --raw-dir (e.g. data_raw/synthetic)")
        with open(marker, encoding='utf-8') as f:
            found = json.load(f)
        if {k: found.get(k) for k in wanted} == wanted and all(
                (raw / n).is_file() for n in RAW_NAMES):
            return dict(found, raw_dir=str(raw), reused=True)
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_movies = max(60, round(FULL_MOVIES * n_users / FULL_USERS))
    directors = _directors(rng)
    ids, rate, year, genre_sets, dir_sets = _movies(rng, n_movies, directors)

    gender = rng.choice(2, n_users, p=[0.717, 0.283])
    age = rng.choice(len(AGES), n_users, p=[0.037, 0.183, 0.347, 0.197, 0.091, 0.082, 0.063])
    occ = rng.integers(0, N_OCCUPATION, n_users)
    counts = _ratings_per_user(rng, n_users, n_movies)
    user_of = np.repeat(np.arange(n_users), counts)
    item_of = _choose_items(rng, counts, (rng.lognormal(0.0, 1.4, n_movies)).astype(np.float32))
    times = _timestamps(rng, user_of, counts, rng.random(n_users) < 0.06)
    genre_of = {g: i for i, g in enumerate(GENRES)}
    genre_of['N/A'] = genre_of['nan']
    dir_of = {d: i for i, d in enumerate(directors)}
    dir_of['N/A'] = dir_of['nan']
    clean = [[d.replace('(co-director)', '') for d in s] for s in dir_sets]
    ratings = _to_ratings(_scores(rng, gender, age, occ, rate, year, genre_sets, clean,
                                  genre_of, dir_of, user_of, item_of))

    # A few movies have no extra info, as 2 of ML-1M's 3,883 (notes, departure 7).
    no_info = set(rng.choice(n_movies, round(2 * n_movies / FULL_MOVIES), replace=False).tolist())
    titles = [f"{_WORDS[a]} {_WORDS[b]}" for a, b in rng.integers(0, len(_WORDS), (n_movies, 2))]
    ml_genres = ('Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime',
                 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror', 'Musical',
                 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western')
    movie_lines, extra_lines = [], []
    for k in range(n_movies):
        gs = [g for g in genre_sets[k] if g in ml_genres] or ['Drama']
        movie_lines.append(f"{ids[k]}::{titles[k]} ({year[k]})::{'|'.join(gs)}")
        if k in no_info:
            continue
        released = f"{1 + k % 28:02d} {_MONTHS[k % 12]} {year[k] + (k % 3 == 0)}"
        extra_lines.append('::'.join([
            str(ids[k]), titles[k], str(year[k]), RATES[rate[k]], released,
            ', '.join(genre_sets[k]), ', '.join(dir_sets[k]),
            f"{clean[k][0]} (screenplay)" if clean[k][0] != 'N/A' else 'N/A',
            'Actor One, Actor Two', 'A synthetic plot.', 'N/A']))
    zips = rng.integers(10000, 99999, n_users)
    user_lines = [f"{u + 1}::{GENDERS[gender[u]]}::{AGES[age[u]]}::{occ[u]}::{zips[u]}"
                  for u in range(n_users)]
    rating_lines = [f"{u}::{i}::{r}::{t}" for u, i, r, t in
                    zip((user_of + 1).tolist(), ids[item_of].tolist(), ratings.tolist(),
                        times.tolist())]

    _write_lines(raw / 'users.dat', user_lines, 'utf-8', '\n')
    _write_lines(raw / 'movies.dat', movie_lines, 'latin-1', '\n')
    _write_lines(raw / 'movies_extrainfos.dat', extra_lines, 'utf-8', '\r\n')
    _write_lines(raw / 'List_genre.txt', list(GENRES), 'utf-8', '\r\n')
    _write_lines(raw / 'List_director.txt', directors, 'utf-8', '\r\n')
    _write_lines(raw / 'ratings.dat', rating_lines, 'utf-8', '\n')
    info = dict(wanted, n_movies=n_movies, n_ratings=int(counts.sum()))
    with open(marker, 'w', encoding='utf-8') as f:
        json.dump(info, f, indent=1)
    return dict(info, raw_dir=str(raw), reused=False)
