"""An offline synthetic Book-Crossing dump (the tests' and the demo's data).

``write_synthetic_bookcrossing(raw_dir, n_users=300, seed=0)`` writes ``BX-Users.csv``,
``BX-Books.csv`` and ``BX-Book-Ratings.csv`` in the dump's format: a header line,
``;``-separated double-quoted fields, an unquoted ``NULL`` for a missing age,
Windows-1252 text with non-ASCII names, ``&amp;`` entities, CRLF line ends.  It also has
what the preparation must filter or skip: malformed lines (a field holding ``";"``,
a line cut short, a non-numeric User-ID), NULL and out-of-range ages, locations
without a country, years outside 1500..2010 (0, 2030, 1376), implicit 0 ratings,
ratings of unknown ISBNs and users, and users with fewer than 20 explicit ratings.

Explicit ratings (1..10) follow a latent-factor model of the user's age and country and
the book's author, publisher and decade, plus noise, so a model that reads the features
can learn them.  Everything comes from one ``numpy.random.Generator(seed)``: same seed,
same bytes.
"""
import json
import os
from pathlib import Path

import numpy as np

from .bx_readers import HEADERS, RAW_FILES
from .errors import PrepareError

MARKER = 'SYNTHETIC.json'                # same marker convention as the MovieLens generator
DATASET = 'bookcrossing'
GENERATOR_VERSION = 1
_COUNTRIES = ('usa', 'canada', 'united kingdom', 'germany', 'spain', 'australia', 'france',
              'italy', 'portugal', 'netherlands', 'switzerland', 'new zealand', 'österreich',
              'españa', 'brazil', 'malaysia')
_COUNTRY_SHARES = np.array([40, 12, 6, 6, 5, 5, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1], float)
_PLACES = ('springfield, illinois', 'toronto, ontario', 'london, england', 'köln, nrw',
           'madrid, madrid', 'sydney, new south wales', 'paris, île-de-france',
           'roma, lazio', 'porto, porto', 'amsterdam, noord-holland', 'zürich, zürich',
           'auckland, auckland', 'wien, wien', 'sevilla, andalucía', 'são paulo, sp',
           'kuala lumpur, selangor')
_FIRST = ('Anna', 'Ben', 'Carla', 'David', 'Elena', 'Frank', 'Greta', 'Hugo', 'Ines', 'Jack',
          'Agnès', 'Jürgen', 'Søren', 'José', 'Chloé', 'Björn', 'Raúl', 'Mary', 'Stephen',
          'Nora', 'Paul', 'Rosa', 'Sam', 'Tina', 'Victor', 'Zoe')
_LAST = ('Abbott', 'Becker', 'Costa', 'Dörrie', 'Evans', 'Fischer', 'García', 'Hughes',
         'Jensen', 'Larsen', 'Moreau', 'Novak', "O'Brien", 'Petrov', 'Quinn', 'Rossi',
         'Schmidt', 'Tanaka', 'Weber', 'Almodóvar', 'Brandt', 'Chen', 'Ekberg', 'Grant',
         'Holm', 'Kim', 'Meyer', 'Olsen', 'Park', 'Silva', 'Walsh', 'Zhang')
_PUBLISHERS = ('Penguin Books', 'Ballantine Books', 'Simon &amp; Schuster', 'HarperCollins',
               'Bantam', 'Random House', 'Gallimard', 'Éditions du Seuil', 'Goldmann',
               'Pocket', 'Harlequin', 'Vintage', 'Scholastic', 'Little, Brown', 'Warner Books',
               'Berkley Publishing Group', 'Tor Books', 'Plume', 'Dell', 'Knopf')
_WORDS = ('Silent', 'River', 'Night', 'Summer', 'Last', 'City', 'Dark', 'Golden', 'Road',
          'Heart', 'Storm', 'Little', 'Secret', 'Star', 'Blue', 'Winter', 'House', 'Garden',
          'Café', 'Mädchen', 'Reine', 'Ocean')
# Shares of the explicit ratings 1..10 in the real dump (approximately).
_RATING_SHARES = (0.004, 0.006, 0.012, 0.018, 0.11, 0.077, 0.175, 0.238, 0.155, 0.205)
_DIM = 6


def _isbn10(n):
    """A 9-digit number -> a valid ISBN-10 string (check character 0-9 or X)."""
    digits = [int(c) for c in f"{n:09d}"]
    check = sum((10 - k) * d for k, d in enumerate(digits)) % 11
    check = (11 - check) % 11
    return f"{n:09d}" + ('X' if check == 10 else str(check))


def _author_name(k):
    """The k-th of the generator's author names: first, optional middle initial, last."""
    first, rest = divmod(k, 27 * len(_LAST))
    middle, last = divmod(rest, len(_LAST))
    initial = f" {chr(ord('A') + middle - 1)}." if middle else ''
    return f"{_FIRST[first]}{initial} {_LAST[last]}"


def _q(*fields):
    return ';'.join(f'"{f}"' for f in fields)


def _choose_items(rng, counts, weights):
    """Per user, counts[u] distinct items drawn by weight (exponential race)."""
    out = []
    n_items = len(weights)
    for lo in range(0, len(counts), 256):
        block = counts[lo:lo + 256]
        keys = -np.log1p(-rng.random((len(block), n_items), dtype=np.float32)) / weights
        k = max(1, int(block.max(initial=0)))
        if k < n_items:                     # only the k smallest keys matter: partition first
            top = np.argpartition(keys, k - 1, axis=1)[:, :k]
            order = np.take_along_axis(top, np.argsort(np.take_along_axis(keys, top, 1),
                                                       axis=1, kind='stable'), 1)
        else:
            order = np.argsort(keys, axis=1, kind='stable')
        out.append(order[np.arange(order.shape[1])[None, :] < block[:, None]])
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _write_lines(path, lines):
    tmp = Path(f"{path}.part")
    with open(tmp, 'w', encoding='cp1252', newline='') as f:
        f.write('\r\n'.join(lines) + '\r\n')
    os.replace(tmp, path)


def _guard(raw, wanted):
    """None to (re)write; the marker's description if the wanted data is already there."""
    marker = raw / MARKER
    found = None
    if marker.is_file():
        with open(marker, encoding='utf-8') as f:
            found = json.load(f)
        if found.get('dataset', 'movielens') != DATASET:
            raise PrepareError(f"{raw}: holds synthetic {found.get('dataset', 'movielens')} "
                               f"data; pass another --raw-dir (e.g. data_raw/book_crossing)")
    if any((raw / n).exists() for n in RAW_FILES):
        if found is None:
            raise PrepareError(f"{raw}: holds Book-Crossing files not written by --synthetic; "
                               f"delete them or pass another --raw-dir "
                               f"(e.g. data_raw/synthetic_bookcrossing)")
        if {k: found.get(k) for k in wanted} == wanted and all(
                (raw / n).is_file() for n in RAW_FILES):
            return found
    return None


def write_synthetic_bookcrossing(raw_dir, n_users=300, seed=0):
    """Write a synthetic Book-Crossing dump to ``raw_dir``; return its description.

    Refuses (PrepareError) to overwrite files this generator did not write, so a real
    dump is never replaced.  A folder already holding the same synthetic data (same
    n_users, seed and generator version) is left as it is.
    """
    if n_users < 1:
        raise PrepareError(f"--users must be at least 1, not {n_users}")
    raw = Path(raw_dir)
    wanted = {'dataset': DATASET, 'generator_version': GENERATOR_VERSION,
              'n_users': int(n_users), 'seed': int(seed)}
    found = _guard(raw, wanted)
    if found is not None:
        return dict(found, raw_dir=str(raw), reused=True)
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_books = max(120, 2 * n_users)
    n_authors = max(30, n_books // 3)
    n_publishers = len(_PUBLISHERS)

    # Users, in id order (as in the dump).
    user_ids = np.sort(rng.choice(np.arange(1, 10 * n_users + 11), n_users, replace=False))
    age = np.clip(np.round(rng.normal(36, 12, n_users)), 10, 90).astype(np.int64)
    country = rng.choice(len(_COUNTRIES), n_users, p=_COUNTRY_SHARES / _COUNTRY_SHARES.sum())
    age_kind = rng.choice(3, n_users, p=[0.9, 0.07, 0.03])           # ok, NULL, out of range
    odd_ages = np.array([0, 1, 3, 111, 120, 204, 244])
    place_kind = rng.choice(3, n_users, p=[0.96, 0.025, 0.015])      # ok, no country, n/a

    # Books: ISBN-10s, authors (non-ASCII names), publishers, years (a few out of range).
    isbn = [_isbn10(int(n)) for n in rng.choice(10 ** 9, n_books, replace=False)]
    n_names = len(_FIRST) * 27 * len(_LAST)               # first, middle initial or none, last
    n_authors = min(n_authors, n_names)
    author_names = [_author_name(int(k)) for k in rng.choice(n_names, n_authors, replace=False)]
    author = rng.integers(0, n_authors, n_books)
    publisher = rng.choice(n_publishers, n_books, p=np.r_[np.full(10, 0.07), np.full(10, 0.03)])
    year = (1950 + np.floor(55 * rng.beta(4.0, 1.3, n_books))).astype(np.int64)
    odd_year = rng.random(n_books) < 0.03
    year[odd_year] = rng.choice([0, 0, 0, 2030, 1376], odd_year.sum())
    titles = [f"{_WORDS[a]} {_WORDS[b]}" for a, b in rng.integers(0, len(_WORDS), (n_books, 2))]

    # Ratings: explicit counts (most users 20+, some fewer), plus implicit 0s.
    explicit = 20 + np.floor(rng.lognormal(2.4, 0.9, n_users)).astype(np.int64)
    few = rng.random(n_users) < 0.15
    explicit[few] = rng.integers(3, 20, few.sum())
    explicit = np.minimum(explicit, n_books // 2)
    implicit = rng.binomial(explicit, 0.4)
    total = explicit + implicit
    popularity = rng.lognormal(0.0, 1.2, n_books).astype(np.float32)
    items = _choose_items(rng, total, popularity)
    user_of = np.repeat(np.arange(n_users), total)
    starts = np.r_[0, np.cumsum(total)[:-1]]
    # within each user, a random order; the first `explicit` drawn are the explicit ones
    pos = np.arange(len(user_of)) - np.repeat(starts, total)
    is_explicit = pos < np.repeat(explicit, total)
    shuffle = np.lexsort((rng.random(len(user_of)), user_of))
    items, is_explicit = items[shuffle], is_explicit[shuffle]

    def table(n):
        return rng.normal(0.0, 0.6, (n, _DIM))
    age_bucket = np.minimum(age // 10, 9)
    u = table(10)[age_bucket] + table(len(_COUNTRIES))[country]
    decade = np.clip((year - 1950) // 10, 0, 5)
    v = table(n_authors)[author] + table(n_publishers)[publisher] + table(6)[decade]
    u_bias = rng.normal(0, 0.4, 10)[age_bucket] + rng.normal(0, 0.3, len(_COUNTRIES))[country]
    i_bias = rng.normal(0, 0.5, n_authors)[author] + rng.normal(0, 0.3, n_publishers)[publisher]
    score = ((u[user_of] * v[items]).sum(1) + u_bias[user_of] + i_bias[items]
             + rng.normal(0, 0.6, len(items)))
    cuts = np.quantile(score[is_explicit], np.cumsum(_RATING_SHARES)[:-1]) \
        if is_explicit.any() else np.zeros(9)
    rating = np.where(is_explicit, 1 + np.searchsorted(cuts, score), 0)

    # Lines of the three files.
    user_lines = [_q(*HEADERS['BX-Users.csv'])]
    for k in range(n_users):
        if place_kind[k] == 0:
            loc = f"{_PLACES[country[k]]}, {_COUNTRIES[country[k]]}"
        elif place_kind[k] == 1:
            loc = f"{_PLACES[country[k]]}, "                          # no country
        else:
            loc = 'n/a, n/a, n/a'
        a = ('NULL' if age_kind[k] == 1 else
             f'"{odd_ages[k % len(odd_ages)]}"' if age_kind[k] == 2 else f'"{age[k]}"')
        user_lines.append(f'"{user_ids[k]}";"{loc}";{a}')
    bad_users = rng.choice(n_users, max(1, n_users // 100), replace=False)
    for k in sorted(bad_users.tolist(), reverse=True):               # location holding ";"
        user_lines[k + 1] = _q(user_ids[k], 'paris', 'france', age[k])
    user_lines.insert(1 + n_users // 2, _q('abc', 'nowhere, usa', '30'))   # non-numeric id

    url = 'http://images.amazon.com/images/P/{}.01.{}ZZZZZZZ.jpg'
    book_lines = [_q(*HEADERS['BX-Books.csv'])]
    for k in range(n_books):
        t = titles[k]
        if k % 37 == 5:
            t = f"{t}: A Novel \\\"Revised\\\""                        # escaped quotes
        elif k % 41 == 7:
            t = f"{t} &amp; {_WORDS[k % len(_WORDS)]}"
        elif k % 43 == 9:
            t = f"{t} \u2019s Tale"                                  # cp1252's 0x92
        book_lines.append(_q(isbn[k], t, author_names[author[k]], year[k],
                             _PUBLISHERS[publisher[k]], url.format(isbn[k], 'THUMB'),
                             url.format(isbn[k], 'MZ'), url.format(isbn[k], 'LZ')))
    bad_books = rng.choice(n_books, max(2, n_books // 150), replace=False)
    for j, k in enumerate(sorted(bad_books.tolist())):
        if j % 2 == 0:                                              # a title holding ";"
            book_lines[k + 1] = book_lines[k + 1].replace(f'"{titles[k]}',
                                                          f'"{titles[k]}";"Part 2', 1)
        else:                                                       # cut short
            book_lines[k + 1] = book_lines[k + 1].rsplit(';', 4)[0]

    rating_lines = [_q(*HEADERS['BX-Book-Ratings.csv'])]
    rating_lines += [_q(u, i, r) for u, i, r in zip(user_ids[user_of].tolist(),
                                                    np.array(isbn)[items].tolist(),
                                                    rating.tolist())]
    # ratings of unknown books and an unknown user, and one malformed line
    for j, k in enumerate(rng.choice(len(rating_lines) - 1, max(3, n_users // 30), replace=False)):
        rating_lines.insert(int(k) + 1, _q(user_ids[user_of[k]], f"{j:09d}Z", 7))
    rating_lines.insert(len(rating_lines) // 3, _q(10 * n_users + 99, isbn[0], 9))
    rating_lines.insert(len(rating_lines) // 2, _q(user_ids[0], isbn[1]) + ';"8";"extra"')

    _write_lines(raw / 'BX-Users.csv', user_lines)
    _write_lines(raw / 'BX-Books.csv', book_lines)
    _write_lines(raw / 'BX-Book-Ratings.csv', rating_lines)
    info = dict(wanted, n_books=n_books, n_rating_lines=len(rating_lines) - 1,
                n_explicit=int(is_explicit.sum()))
    with open(raw / MARKER, 'w', encoding='utf-8') as f:
        json.dump(info, f, indent=1)
    return dict(info, raw_dir=str(raw), reused=False)
