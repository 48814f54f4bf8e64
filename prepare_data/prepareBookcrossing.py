"""Prepare the Book-Crossing dump for MAMO: raw files -> the same layout as MovieLens.

``prepare_bookcrossing(raw_dir, out_dir)`` applies the paper's appendix A.1.2 and
Section 3.1.4 (details and the choices the paper leaves open: README_BOOKCROSSING.md):

1. Read ``BX-Users.csv``, ``BX-Books.csv``, ``BX-Book-Ratings.csv``
   (:mod:`prepare_data.bx_readers`); malformed lines are skipped and counted.
2. User profiles: age an integer in 5..110 (``NULL`` or out of range: dropped);
   location reduced to its country, the text after the last comma, stripped and
   lower-cased (empty or ``n/a``: dropped).
3. Book profiles: year of publication an integer in 1500..2010 (else dropped);
   author and publisher non-empty (else dropped).
4. Ratings: explicit only (1..10; 0 is implicit feedback); a rating whose user or ISBN
   has no valid profile is dropped.
5. Users with at least 20 of the remaining ratings keep their first 20 in file order
   (the dump has no timestamps); the others are dropped.  Samples are in user-id order.
6. The first 90% of the kept users by id (``9 * n // 10``) are warm, the rest cold; over
   the kept ratings an item is warm if it has more than 5 of them.
7. Features: x1 = [age, country], x2 = [author, year, publisher] (vocabulary indices;
   ages: the fixed range 5..110, index = age - 5; the others: the kept users' or items'
   distinct values, sorted).  Scenario codes 0 W-W, 1 W-C, 2 C-W, 3 C-C; support =
   the first 15 ratings, query = the last 5.

Output in ``out_dir``, readable by :func:`prepare_data.load_samples` and
:func:`prepare_data.load_feature_sizes`: ``samples.npz`` (item ids are indices into
the sorted ISBN list), ``meta.json`` (``dataset: bookcrossing``, feature sizes,
statistics, input manifest), ``vocab.json`` (the vocabularies and ISBNs) and five
pickles analogous to the reference's.  Written to a temporary folder and swapped in by
rename: a failed run leaves no partial output.
"""
import hashlib
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import bx_readers as rd
from .errors import PrepareError
from .output import write_folder_atomically
from .samples import FORMAT_VERSION, META_FILE, SAMPLES_FILE, read_meta, save_samples
from .transforms import MAX_COUNT, scenario_codes

DATASET = 'bookcrossing'
AGE_MIN, AGE_MAX = 5, 110
YEAR_MIN, YEAR_MAX = 1500, 2010
WARM_ITEM_MIN = 6                 # an item is warm with more than 5 kept ratings
WARM_USER_SHARE = (9, 10)         # the first 9/10 of the kept users by id are warm
MISSING_COUNTRIES = frozenset({'', 'n/a'})
VOCAB_FILE = 'vocab.json'
PICKLES = ('ratings_sorted.p', 'user_state_ids.p', 'item_state_ids.p', 'user_dict.p',
           'item_dict.p')
OUTPUT_FILES = PICKLES + (SAMPLES_FILE, VOCAB_FILE, META_FILE)


def load_dataset_name(out_dir):
    """'bookcrossing' or 'movielens' (outputs without a dataset tag are MovieLens)."""
    return read_meta(out_dir).get('dataset', 'movielens')


def load_vocab(out_dir):
    """The vocabularies of a prepared Book-Crossing folder (see README_BOOKCROSSING.md)."""
    with open(Path(out_dir) / VOCAB_FILE, encoding='utf-8') as f:
        return json.load(f)


def country_of(location):
    """'city, state, country' -> 'country' (last comma-separated part, stripped, lower)."""
    return location.str.rsplit(',', n=1).str[-1].str.strip().str.lower()


def input_manifest(raw_dir):
    files = {}
    for name in rd.RAW_FILES:
        path = Path(raw_dir) / name
        if not path.is_file():
            raise PrepareError(f"{path}: file not found; {rd.FIX_MISSING}")
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 22), b''):
                digest.update(block)
        files[name] = {'size': path.stat().st_size, 'sha256': digest.hexdigest()}
    return {'files': files}


def _int_in(values, lo, hi):
    """Text column -> int64 array, and a mask of the values that are integers in lo..hi."""
    is_int = values.str.fullmatch(r'-?\d{1,9}').to_numpy()
    out = np.full(len(values), -1, np.int64)
    out[is_int] = values[is_int].astype(np.int64).to_numpy()
    return out, is_int & (out >= lo) & (out <= hi)


def _codes(values):
    """Sorted distinct values and each value's index in them."""
    vocab, idx = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    return [str(v) for v in vocab], idx.astype(np.int64)


def build(raw_dir):
    """Read ``raw_dir`` and compute all outputs in memory: (pickles, samples, vocab, meta)."""
    raw = Path(raw_dir)
    users = rd.read_users(raw / rd.USERS_FILE)
    books = rd.read_books(raw / rd.BOOKS_FILE)
    r = rd.read_ratings(raw / rd.RATINGS_FILE)

    # Step 2: user profiles.
    age, age_ok = _int_in(users.age, AGE_MIN, AGE_MAX)
    age_null = ~users.age.str.fullmatch(r'-?\d{1,9}').to_numpy()
    country = country_of(users.location)
    country_ok = ~country.isin(MISSING_COUNTRIES).to_numpy()
    user_ok = age_ok & country_ok
    # Step 3: book profiles.
    year, year_ok = _int_in(books.year, YEAR_MIN, YEAR_MAX)
    named = ((books.author != '') & (books.publisher != '')).to_numpy()
    book_ok = year_ok & named

    # Step 4: explicit ratings of users and books with valid profiles.
    explicit = r.rating >= 1
    has_user = np.isin(r.user, users.ids[user_ok])
    book_pos = pd.Index(books.isbn[book_ok]).get_indexer(r.isbn)   # -1: no valid profile
    keep = explicit & has_user & (book_pos >= 0)

    # Step 5: first 20 ratings in file order of each user with at least 20; id order.
    rows = np.flatnonzero(keep)
    order = rows[np.argsort(r.user[rows], kind='stable')]
    by_user = r.user[order]
    starts = np.flatnonzero(np.r_[True, by_user[1:] != by_user[:-1]]) if len(order) else \
        np.zeros(0, np.int64)
    counts = np.diff(np.r_[starts, len(order)])
    enough = counts >= MAX_COUNT
    if not enough.any():
        raise PrepareError(f"{r.path}: no user has {MAX_COUNT} or more explicit ratings of "
                           f"books with valid profiles, so there is nothing to prepare; use "
                           f"the full dump")
    sel = order[(starts[enough][:, None] + np.arange(MAX_COUNT)).ravel()]
    user_ids = by_user[starts[enough]]
    n_users = len(user_ids)
    user_warm = np.arange(n_users) < WARM_USER_SHARE[0] * n_users // WARM_USER_SHARE[1]

    # Step 6: item states over the kept ratings (item = position among valid books).
    valid_isbn = books.isbn[book_ok]
    kept_pos = book_pos[sel]
    item_pos, item_of_rating, item_counts = np.unique(kept_pos, return_inverse=True,
                                                      return_counts=True)
    isbn_order = np.argsort(valid_isbn[item_pos].astype(str), kind='stable')  # sorted ISBNs
    rank = np.empty_like(isbn_order)
    rank[isbn_order] = np.arange(len(isbn_order))
    item_pos, item_counts = item_pos[isbn_order], item_counts[isbn_order]
    item_code = rank[item_of_rating]                  # per kept rating: index in isbns
    isbns = [str(v) for v in valid_isbn[item_pos]]
    item_warm = item_counts >= WARM_ITEM_MIN

    # Step 7: vocabularies and features of the kept users and items.
    u_sorted = np.argsort(users.ids[user_ok])
    u_rows = np.flatnonzero(user_ok)[u_sorted[np.searchsorted(users.ids[user_ok], user_ids,
                                                              sorter=u_sorted)]]
    countries, country_idx = _codes(country.to_numpy(object)[u_rows])
    x1 = np.stack([age[u_rows] - AGE_MIN, country_idx], axis=1).astype(np.int64)
    b_rows = np.flatnonzero(book_ok)[item_pos]
    authors, author_idx = _codes(books.author.to_numpy(object)[b_rows])
    years, year_idx = _codes(year[b_rows])
    publishers, publisher_idx = _codes(books.publisher.to_numpy(object)[b_rows])
    table = np.stack([author_idx, year_idx, publisher_idx], axis=1)
    table = table.astype(np.min_scalar_type(max(int(table.max(initial=0)), 1)))

    codes = scenario_codes(np.repeat(user_warm, MAX_COUNT), item_warm[item_code])
    y = r.rating[sel]
    samples = dict(user_ids=user_ids, x1=x1,
                   offsets=np.arange(0, MAX_COUNT * (n_users + 1), MAX_COUNT),
                   item_ids=item_code, item_rows=item_code, y=y, y0=codes,
                   item_table=table, table_ids=np.arange(len(isbns)))
    isbn_arr = np.array(isbns, dtype=object)
    pickles = {
        'ratings_sorted.p': pd.DataFrame({'user_id': r.user[sel], 'item_id': isbn_arr[item_code],
                                          'rating': y, 'line': r.lines[sel]}),
        'user_state_ids.p': {'user_all_ids': user_ids,
                             'user_warm_ids': list(user_ids[user_warm]),
                             'user_cold_ids': list(user_ids[~user_warm])},
        'item_state_ids.p': {'item_all_ids': isbn_arr,
                             'item_warm_ids': list(isbn_arr[item_warm]),
                             'item_cold_ids': list(isbn_arr[~item_warm])},
        'user_dict.p': dict(zip(user_ids.tolist(), x1)),
        'item_dict.p': dict(zip(isbns, table.astype(np.int64))),
    }
    vocab = {'ages': list(range(AGE_MIN, AGE_MAX + 1)), 'countries': countries,
             'years': [int(v) for v in years], 'authors': authors, 'publishers': publishers,
             'isbns': isbns}
    feature_sizes = {'n_age_bk': AGE_MAX - AGE_MIN + 1, 'n_location': len(countries),
                     'n_year_bk': len(years), 'n_author': len(authors),
                     'n_publisher': len(publishers)}
    n_explicit_users = len(starts)
    stats = {
        'bad_lines': {rd.USERS_FILE: len(users.bad_lines), rd.BOOKS_FILE: len(books.bad_lines),
                      rd.RATINGS_FILE: len(r.bad_lines)},
        'first_bad_lines': {rd.USERS_FILE: users.bad_lines[:5],
                            rd.BOOKS_FILE: books.bad_lines[:5],
                            rd.RATINGS_FILE: r.bad_lines[:5]},
        'users_read': len(users.ids), 'users_valid': int(user_ok.sum()),
        'users_age_missing': int(age_null.sum()),
        'users_age_out_of_range': int((~age_null & ~age_ok).sum()),
        'users_no_country': int((age_ok & ~country_ok).sum()),
        'books_read': len(books.isbn), 'books_valid': int(book_ok.sum()),
        'books_year_out_of_range': int((~year_ok).sum()),
        'books_no_author_or_publisher': int((year_ok & ~named).sum()),
        'n_ratings': len(r), 'implicit_ratings': int((~explicit).sum()),
        'explicit_ratings': int(explicit.sum()),
        'ratings_without_user_profile': int((explicit & ~has_user).sum()),
        'ratings_without_book_profile': int((explicit & has_user & (book_pos < 0)).sum()),
        'ratings_usable': int(keep.sum()), 'users_with_usable_ratings': n_explicit_users,
        'users_kept': n_users, 'users_dropped': int((~enough).sum()),
        'warm_users': int(user_warm.sum()), 'cold_users': int((~user_warm).sum()),
        'warm_items': int(item_warm.sum()), 'cold_items': int((~item_warm).sum()),
        'samples': len(sel),
    }
    return pickles, samples, vocab, {'dataset': DATASET, 'feature_sizes': feature_sizes,
                                     'stats': stats}


def _is_up_to_date(out_dir, manifest):
    try:
        meta = read_meta(out_dir)
    except (PrepareError, ValueError, OSError):
        return None
    if (meta.get('dataset') != DATASET or meta.get('format_version') != FORMAT_VERSION
            or meta.get('inputs') != manifest
            or not all((Path(out_dir) / f).is_file() for f in OUTPUT_FILES)):
        return None
    return meta


def _check_replaceable(out_dir):
    """Refuse to replace a folder holding other files or another dataset's output."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PrepareError(f"{out_dir}: exists and is not a folder; remove it or pass "
                           f"another --out-dir")
    if not out_dir.is_dir():
        return
    names = set(os.listdir(out_dir))
    other = sorted(names - set(OUTPUT_FILES))
    if other:
        raise PrepareError(f"{out_dir}: holds files this tool did not write "
                           f"({', '.join(other[:3])}); move them away or pass another "
                           f"--out-dir")
    if META_FILE in names:
        try:
            name = load_dataset_name(out_dir)
        except (ValueError, OSError, AttributeError):
            name = DATASET                          # unreadable: an interrupted output
        if name != DATASET:
            raise PrepareError(f"{out_dir}: holds prepared {name} data; pass another "
                               f"--out-dir (default data_processed/bookcrossing) or delete it")


def _write(folder, pickles, samples, vocab, meta):
    for name, obj in pickles.items():
        with open(folder / name, 'wb') as f:
            pickle.dump(obj, f, protocol=4)
    save_samples(folder / SAMPLES_FILE, **samples)
    with open(folder / VOCAB_FILE, 'w', encoding='utf-8') as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(folder / META_FILE, 'w', encoding='utf-8') as f:   # last: marks completion
        json.dump(meta, f, indent=1)


def format_stats(s):
    def first(name):
        return f" (first: line {', '.join(map(str, s['first_bad_lines'][name]))})"
    bad = ', '.join(f"{name} {n}" + (first(name) if n else '')
                    for name, n in s['bad_lines'].items())
    return (f"bad lines skipped (malformed, or a repeated User-ID or ISBN): {bad}\n"
            f"users: {s['users_valid']} of {s['users_read']} with a valid profile "
            f"({s['users_age_missing']} without age, {s['users_age_out_of_range']} age outside "
            f"{AGE_MIN}..{AGE_MAX}, {s['users_no_country']} without country)\n"
            f"books: {s['books_valid']} of {s['books_read']} with a valid profile "
            f"({s['books_year_out_of_range']} year outside {YEAR_MIN}..{YEAR_MAX}, "
            f"{s['books_no_author_or_publisher']} without author or publisher)\n"
            f"ratings: {s['n_ratings']}, {s['implicit_ratings']} implicit (0) dropped, "
            f"{s['ratings_without_user_profile']} without user profile, "
            f"{s['ratings_without_book_profile']} without book profile, "
            f"{s['ratings_usable']} usable\n"
            f"num warm users: {s['warm_users']}, num cold users: {s['cold_users']} "
            f"({s['users_dropped']} of {s['users_with_usable_ratings']} users dropped: fewer "
            f"than {MAX_COUNT} usable ratings)\n"
            f"num warm items: {s['warm_items']},   num cold items: {s['cold_items']}\n"
            f"{s['users_kept']} user samples, {s['samples']} ratings")


def prepare_bookcrossing(raw_dir, out_dir, force=False, log=print):
    """Prepare ``raw_dir`` (the three BX-*.csv files) into ``out_dir``; return statistics.

    An output whose manifest matches the current inputs is reused (``stats['reused']``
    is True) unless ``force``.  Raises :class:`PrepareError` on bad input, leaving
    ``out_dir`` as it was.
    """
    t0 = time.perf_counter()
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    manifest = input_manifest(raw_dir)
    meta = None if force else _is_up_to_date(out_dir, manifest)
    if meta is not None:
        log(f"{out_dir} is up to date with {raw_dir}; reusing it (--force rebuilds)")
        return dict(meta['stats'], reused=True, elapsed_s=time.perf_counter() - t0)
    _check_replaceable(out_dir)
    pickles, samples, vocab, meta = build(raw_dir)
    meta = dict(format_version=FORMAT_VERSION, inputs=manifest, **meta)

    write_folder_atomically(out_dir,
                            lambda folder: _write(folder, pickles, samples, vocab, meta))
    stats = dict(meta['stats'], reused=False, elapsed_s=time.perf_counter() - t0)
    log(format_stats(stats))
    log(f"wrote {out_dir} in {stats['elapsed_s']:.2f} s")
    return stats
