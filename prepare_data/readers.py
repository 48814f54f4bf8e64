"""Parse and validate the raw MovieLens-1M files.

Each reader returns plain NumPy arrays/lists and raises :class:`PrepareError` with the
file, the line number and a fix for anything the reference could not process.  Every
line of every file is validated (the reference only looks at rows it happens to use).
Blank lines are skipped, as pandas does in the reference.
"""
import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import PrepareError, where
from .vocab import AGES, GENDERS, N_OCCUPATION, PANDAS_NA_STRINGS, RATES

FIX_MISSING = ("run `python prepareDataset.py --download` (or `--synthetic` for offline "
               "demo data), or point --raw-dir at the folder holding it")
_INT = re.compile(r'-?\d+')
MAX_TIMESTAMP = 2 ** 32 - 1          # Unix seconds; far beyond MovieLens, inside datetime64[ns]


def _read_text(path, encoding):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        raise PrepareError(f"{path}: file not found; {FIX_MISSING}") from None
    except OSError as e:
        raise PrepareError(f"{path}: cannot read ({e.strerror}); check the file's permissions") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        lineno = data.count(b'\n', 0, e.start) + 1
        raise PrepareError(f"{where(path, lineno)}: not valid {encoding} text; "
                           f"re-download the file") from None
    # universal newlines, as Python's text mode (and pandas) read it
    return io.StringIO(text, newline=None).readlines()


def _fields(path, lines, n_fields):
    """Yield (lineno, fields) of the non-blank lines, each with exactly n_fields."""
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip('\n')
        if not line.strip():
            continue
        fields = line.split('::')
        if len(fields) != n_fields:
            raise PrepareError(f"{where(path, lineno)}: expected {n_fields} '::'-separated "
                               f"fields, found {len(fields)}; fix or delete the line")
        yield lineno, fields


def _int(path, lineno, name, text):
    if not _INT.fullmatch(text):
        raise PrepareError(f"{where(path, lineno)}: {name} {text!r} is not an integer; "
                           f"fix the line")
    return int(text)


def _check_unique(path, ids, linenos, what):
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if (counts > 1).any():
        order = np.argsort(linenos)                   # report the earliest repeat
        seen = {}
        for k in order:
            if ids[k] in seen:
                raise PrepareError(f"{where(path, linenos[k])}: duplicate {what} id {ids[k]} "
                                   f"(first on line {seen[ids[k]]}); delete one of the lines")
            seen[ids[k]] = linenos[k]


def read_list(path):
    """A vocabulary list file: one entry per line, stripped (CRLF allowed)."""
    entries = [line.strip() for line in _read_text(path, 'utf-8')]
    if not entries:
        raise PrepareError(f"{path}: the list is empty; {FIX_MISSING}")
    return entries


def first_index(entries):
    """Map each entry to the index of its first occurrence (what list.index returns)."""
    index = {}
    for i, e in enumerate(entries):
        index.setdefault(e, i)
    return index


@dataclass
class Users:
    """users.dat: ids and feature indices [gender, age, occupation], in file order."""
    ids: np.ndarray          # int64 (U,)
    features: np.ndarray     # int64 (U, 3)
    linenos: np.ndarray


def read_users(path):
    gender_idx = {g: i for i, g in enumerate(GENDERS)}
    age_idx = {a: i for i, a in enumerate(AGES)}
    ids, feats, linenos = [], [], []
    for lineno, (uid, gender, age, occ, _zip) in _fields(path, _read_text(path, 'utf-8'), 5):
        uid = _int(path, lineno, 'user id', uid)
        if gender not in gender_idx:
            raise PrepareError(f"{where(path, lineno)}: unknown gender {gender!r} "
                               f"(expected one of {', '.join(GENDERS)}); fix the line")
        age_v = _int(path, lineno, 'age', age)
        if age_v not in age_idx:
            raise PrepareError(f"{where(path, lineno)}: unknown age {age!r} (expected one of "
                               f"{', '.join(map(str, AGES))}); fix the line")
        occ_v = _int(path, lineno, 'occupation', occ)
        if not 0 <= occ_v < N_OCCUPATION:
            raise PrepareError(f"{where(path, lineno)}: unknown occupation {occ!r} "
                               f"(expected 0..{N_OCCUPATION - 1}); fix the line")
        ids.append(uid)
        feats.append((gender_idx[gender], age_idx[age_v], occ_v))
        linenos.append(lineno)
    if not ids:
        raise PrepareError(f"{path}: the file is empty; {FIX_MISSING}")
    users = Users(np.array(ids, np.int64), np.array(feats, np.int64).reshape(-1, 3),
                  np.array(linenos))
    _check_unique(path, users.ids, users.linenos, 'user')
    return users


def read_movie_ids(path):
    """Ids of movies.dat (Latin-1, as GroupLens ships it)."""
    ids, linenos = [], []
    for lineno, fields in _fields(path, _read_text(path, 'latin-1'), 3):
        ids.append(_int(path, lineno, 'movie id', fields[0]))
        linenos.append(lineno)
    if not ids:
        raise PrepareError(f"{path}: the file is empty; {FIX_MISSING}")
    ids = np.array(ids, np.int64)
    _check_unique(path, ids, np.array(linenos), 'movie')
    return ids


@dataclass
class ItemInfo:
    """movies_extrainfos.dat, encoded: one entry per movie in file order."""
    ids: np.ndarray          # int64 (I,)
    rate: np.ndarray         # int64 (I,) index into RATES
    year: np.ndarray         # int64 (I,) index into years
    genres: list             # per movie, the genre-list indices that are set
    directors: list          # per movie, the director-list indices that are set
    years: list              # the year vocabulary: years in order of first appearance


def _na(text):
    return 'nan' if text in PANDAS_NA_STRINGS else text


def read_extrainfos(path, genre_list, director_list, genre_path, director_path):
    """Encode movies_extrainfos.dat as the reference does (see the notes, step 5)."""
    rate_idx = {r: i for i, r in enumerate(RATES)}
    genre_idx, director_idx = first_index(genre_list), first_index(director_list)
    ids, rates, years, genres, directors, linenos = [], [], [], [], [], []
    for lineno, f in _fields(path, _read_text(path, 'utf-8'), 11):
        # id, title, year, rate, released, genre, director, writer, actors, plot, poster
        ids.append(_int(path, lineno, 'movie id', f[0]))
        years.append(_int(path, lineno, 'year', f[2]))
        if f[3] not in rate_idx:
            raise PrepareError(f"{where(path, lineno)}: unknown rate {f[3]!r} (expected one "
                               f"of {', '.join(RATES)}); fix the line")
        rates.append(rate_idx[f[3]])
        g_set = []
        for g in _na(f[5]).split(', '):
            if g not in genre_idx:
                raise PrepareError(f"{where(path, lineno)}: unknown genre {g!r}, not in "
                                   f"{genre_path}; add it to that list or fix the line")
            g_set.append(genre_idx[g])
        genres.append(g_set)
        d_set = []
        for d in _na(f[6]).split(', '):
            name = re.sub(r'\([^()]*\)', '', d)      # 'X(co-director)' -> 'X', as the reference
            if name not in director_idx:
                raise PrepareError(f"{where(path, lineno)}: unknown director {name!r}, not in "
                                   f"{director_path}; add it to that list or fix the line")
            d_set.append(director_idx[name])
        directors.append(d_set)
        linenos.append(lineno)
    if not ids:
        raise PrepareError(f"{path}: the file is empty; {FIX_MISSING}")
    ids = np.array(ids, np.int64)
    _check_unique(path, ids, np.array(linenos), 'movie')
    year_vocab = list(pd.unique(np.array(years, np.int64)))       # first-appearance order
    year_pos = {y: i for i, y in enumerate(year_vocab)}
    return ItemInfo(ids, np.array(rates, np.int64),
                    np.array([year_pos[y] for y in years], np.int64),
                    genres, directors, [int(y) for y in year_vocab])


@dataclass
class Ratings:
    """ratings.dat columns in file order (blank lines skipped)."""
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray

    def __len__(self):
        return len(self.user)


def read_ratings(path):
    """Parse ratings.dat (user::item::rating::timestamp) with pandas' C parser.

    '::' is replaced by ':' so that the fast single-character parser applies; the colon
    counts prove no field held a stray ':'.  Anything suspicious is re-read line by
    line to report the exact line.
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        raise PrepareError(f"{path}: file not found; {FIX_MISSING}") from None
    if not data.strip():
        raise PrepareError(f"{path}: the file is empty (no ratings); {FIX_MISSING}")
    try:
        df = pd.read_csv(io.BytesIO(data.replace(b'::', b':')), sep=':', header=None,
                         names=['u', 'i', 'r', 't'], dtype=np.int64, engine='c',
                         quoting=csv.QUOTE_NONE)
        ok = data.count(b'::') == 3 * len(df) and data.count(b':') == 6 * len(df)
    except (ValueError, pd.errors.ParserError):
        ok = False
    if ok:
        r = Ratings(*(df[c].to_numpy() for c in 'uirt'))
        ok = not (((r.rating < 1) | (r.rating > 5)).any() or (r.user < 0).any() or
                  (r.item < 0).any() or (r.timestamp < 0).any() or
                  (r.timestamp > MAX_TIMESTAMP).any())
    if not ok:
        _diagnose_ratings(path, data)
        raise PrepareError(f"{path}: cannot parse the file; re-download it")  # not reached
    return r


def _diagnose_ratings(path, data):
    """Slow path: find the first bad line of ratings.dat and raise for it."""
    text = data.decode('utf-8', errors='replace')
    for lineno, (u, i, r, t) in _fields(path, io.StringIO(text, newline=None).readlines(), 4):
        _int(path, lineno, 'user id', u)
        _int(path, lineno, 'movie id', i)
        rating = _int(path, lineno, 'rating', r)
        if not 1 <= rating <= 5:
            raise PrepareError(f"{where(path, lineno)}: rating {rating} is outside 1..5; "
                               f"fix the line")
        ts = _int(path, lineno, 'timestamp', t)
        if not 0 <= ts <= MAX_TIMESTAMP:
            raise PrepareError(f"{where(path, lineno)}: timestamp {ts} is not a Unix time "
                               f"in 1970..2106; fix the line")
        if int(u) < 0 or int(i) < 0:
            raise PrepareError(f"{where(path, lineno)}: negative id; fix the line")


def ratings_line(path, row):
    """Line number of the row-th (0-based) rating, counting blank lines as pandas skips them."""
    with open(path, 'rb') as f:
        seen = -1
        for lineno, line in enumerate(f, 1):
            if line.strip():
                seen += 1
                if seen == row:
                    return lineno
    return None
