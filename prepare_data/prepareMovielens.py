"""Prepare MovieLens-1M for MAMO: raw files -> reference pickles + compact samples.

``prepare_movielens(raw_dir, out_dir)`` follows the seven steps of the porting notes
("Data") and writes, into ``out_dir``:

- the reference's five pickles with the reference's contents: ``ratings_sorted.p``,
  ``user_state_ids.p``, ``item_state_ids.p``, ``user_dict.p``, ``item_dict.p``
  (item feature vectors as uint8 instead of int64, to keep the output small);
- ``samples.npz``: all per-user samples (see :mod:`prepare_data.samples`);
- ``meta.json``: feature sizes, statistics and a manifest of the inputs, used to reuse
  an up-to-date output.

Output is written to a temporary folder beside ``out_dir`` and swapped in by rename,
so a failed run leaves no partial output.
"""
import hashlib
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import readers, transforms
from .errors import PrepareError, where
from .output import write_folder_atomically
from .samples import FORMAT_VERSION, META_FILE, SAMPLES_FILE, read_meta, save_samples
from .vocab import N_AGE, N_GENDER, N_OCCUPATION, N_RATE

RAW_FILES = ('ratings.dat', 'users.dat', 'movies.dat', 'movies_extrainfos.dat',
             'List_genre.txt', 'List_director.txt')
PICKLES = ('ratings_sorted.p', 'user_state_ids.p', 'item_state_ids.p', 'user_dict.p',
           'item_dict.p')
OUTPUT_FILES = PICKLES + (SAMPLES_FILE, META_FILE)
_REFERENCE_ONLY = {'raw'}          # the reference's per-user pickle folder


def input_manifest(raw_dir):
    """Size and SHA-256 of each raw file, plus the local time zone (it shapes 'time')."""
    files = {}
    for name in RAW_FILES:
        path = Path(raw_dir) / name
        if not path.is_file():
            raise PrepareError(f"{path}: file not found; {readers.FIX_MISSING}")
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 22), b''):
                digest.update(block)
        files[name] = {'size': path.stat().st_size, 'sha256': digest.hexdigest()}
    return {'files': files, 'local_tz': [list(time.tzname), time.timezone, time.altzone]}


def _is_up_to_date(out_dir, manifest):
    try:
        meta = read_meta(out_dir)
    except (PrepareError, ValueError, OSError):
        return None
    if (meta.get('format_version') != FORMAT_VERSION or meta.get('inputs') != manifest
            or not all((Path(out_dir) / f).is_file() for f in OUTPUT_FILES)):
        return None
    return meta


def _check_replaceable(out_dir):
    """Refuse to replace a folder that holds files this tool did not write."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PrepareError(f"{out_dir}: exists and is not a folder; remove it or pass "
                           f"another --out-dir")
    if out_dir.is_dir():
        names = set(os.listdir(out_dir))
        if names - set(OUTPUT_FILES) - _REFERENCE_ONLY:
            raise PrepareError(f"{out_dir}: holds files this tool did not write "
                               f"({', '.join(sorted(names - set(OUTPUT_FILES))[:3])}); "
                               f"move them away or pass another --out-dir")


def _first_unknown(path, values, known, what, fix):
    bad = np.flatnonzero(~np.isin(values, known))
    if bad.size:
        line = readers.ratings_line(path, int(bad[0]))
        raise PrepareError(f"{where(path, line)}: {what} id {values[bad[0]]} is not in {fix}")


def build(raw_dir):
    """Read ``raw_dir`` and compute all outputs in memory: (pickles, samples, meta)."""
    raw = Path(raw_dir)
    genre_list = readers.read_list(raw / 'List_genre.txt')
    director_list = readers.read_list(raw / 'List_director.txt')
    users = readers.read_users(raw / 'users.dat')
    movie_ids = readers.read_movie_ids(raw / 'movies.dat')
    info = readers.read_extrainfos(raw / 'movies_extrainfos.dat', genre_list, director_list,
                                   raw / 'List_genre.txt', raw / 'List_director.txt')
    r = readers.read_ratings(raw / 'ratings.dat')
    _first_unknown(raw / 'ratings.dat', r.user, users.ids, 'user',
                   f"{raw / 'users.dat'}; add the user there or delete its ratings")
    _first_unknown(raw / 'ratings.dat', r.item, movie_ids, 'movie',
                   f"{raw / 'movies.dat'}; add the movie there or delete its ratings")

    if len(r) < transforms.MAX_COUNT:      # (also keeps row round(0.8 n) inside the data)
        raise PrepareError(f"{raw / 'ratings.dat'}: no user has {transforms.MAX_COUNT} or "
                           f"more ratings, so there is nothing to prepare; use the full file")

    # Steps 1-3: split time, per-user selection, user and item states.
    times = transforms.local_datetime64(r.timestamp)
    start, split, end = transforms.split_time(times)
    sel = transforms.select_users(r.user, times, split)
    if not len(sel.user_ids):
        raise PrepareError(f"{raw / 'ratings.dat'}: no user has {transforms.MAX_COUNT} or "
                           f"more ratings, so there is nothing to prepare; use the full file")
    k_user, k_item, k_rating, k_time = (a[sel.rows] for a in (r.user, r.item, r.rating, times))
    item_ids, item_warm, item_counts = transforms.item_states(k_item)

    # Step 4: user features, in the order of the kept users.
    order = np.argsort(users.ids)
    x1 = users.features[order[np.searchsorted(users.ids, sel.user_ids, sorter=order)]]

    # Step 5: features of the rated items that have extra info (the others are dropped:
    # notes, departure 7).
    has_info = np.isin(item_ids, info.ids)
    table_ids = item_ids[has_info]
    info_order = np.argsort(info.ids)
    pos = info_order[np.searchsorted(info.ids, table_ids, sorter=info_order)]
    table = transforms.item_feature_table(info.rate[pos], info.year[pos],
                                          [info.genres[p] for p in pos],
                                          [info.directors[p] for p in pos],
                                          len(genre_list), len(director_list))

    # Steps 6-7: per-rating scenario codes; rows stay in time order per user.
    item_pos = np.searchsorted(item_ids, k_item)
    codes = transforms.scenario_codes(np.repeat(sel.warm, transforms.MAX_COUNT),
                                      item_warm[item_pos])
    keep = has_info[item_pos]
    table_row = (np.cumsum(has_info) - 1)[item_pos]
    per_user = keep.reshape(-1, transforms.MAX_COUNT).sum(axis=1)
    samples = dict(user_ids=sel.user_ids, x1=x1, offsets=np.r_[0, np.cumsum(per_user)],
                   item_ids=k_item[keep], item_rows=table_row[keep], y=k_rating[keep],
                   y0=codes[keep], item_table=table, table_ids=table_ids)

    pickles = {
        'ratings_sorted.p': pd.DataFrame({'user_id': k_user, 'item_id': k_item,
                                          'rating': k_rating, 'time': k_time}),
        'user_state_ids.p': {'user_all_ids': sel.user_ids,
                             'user_warm_ids': list(sel.user_ids[sel.warm]),
                             'user_cold_ids': list(sel.user_ids[~sel.warm])},
        'item_state_ids.p': {'item_all_ids': item_ids,
                             'item_warm_ids': list(item_ids[item_warm]),
                             'item_cold_ids': list(item_ids[~item_warm])},
        'user_dict.p': dict(zip(sel.user_ids, x1)),
        'item_dict.p': dict(zip(table_ids, table)),
    }
    stamp = lambda t: str(pd.Timestamp(t))
    stats = {
        'start_time': stamp(start), 'split_time': stamp(split), 'end_time': stamp(end),
        'n_ratings': len(r), 'n_users': sel.n_users,
        'users_kept': len(sel.user_ids),
        'users_dropped': sel.n_users - len(sel.user_ids),
        'warm_users': int(sel.warm.sum()), 'cold_users': int((~sel.warm).sum()),
        'warm_items': int(item_warm.sum()), 'cold_items': int((~item_warm).sum()),
        'items_without_info': int((~has_info).sum()),
        'ratings_dropped_without_info': int((~keep).sum()),
        'samples': int(keep.sum()),
    }
    feature_sizes = {'n_gender': N_GENDER, 'n_age': N_AGE, 'n_occupation': N_OCCUPATION,
                     'n_rate': N_RATE, 'n_year': len(info.years),
                     'n_genre': len(genre_list), 'n_director': len(director_list)}
    return pickles, samples, {'feature_sizes': feature_sizes, 'stats': stats,
                              'years': info.years}


def _write(folder, pickles, samples, meta):
    for name, obj in pickles.items():
        with open(folder / name, 'wb') as f:
            pickle.dump(obj, f, protocol=4)
    save_samples(folder / SAMPLES_FILE, **samples)
    with open(folder / META_FILE, 'w', encoding='utf-8') as f:   # last: marks completion
        json.dump(meta, f, indent=1)


def format_stats(stats):
    s = stats
    return (f"start time {s['start_time']}, split_time {s['split_time']}, "
            f"end time {s['end_time']}\n"
            f"num warm users: {s['warm_users']}, num cold users: {s['cold_users']} "
            f"({s['users_dropped']} of {s['n_users']} users dropped: fewer than "
            f"{transforms.MAX_COUNT} ratings)\n"
            f"num warm items: {s['warm_items']},   num cold items: {s['cold_items']} "
            f"({s['items_without_info']} without extra info: "
            f"{s['ratings_dropped_without_info']} ratings dropped)\n"
            f"{s['users_kept']} user samples, {s['samples']} ratings")


def prepare_movielens(raw_dir, out_dir, force=False, log=print):
    """Prepare ``raw_dir`` (ML-1M files) into ``out_dir``; return the statistics dict.

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
    pickles, samples, meta = build(raw_dir)
    meta = dict(format_version=FORMAT_VERSION, inputs=manifest, **meta)

    write_folder_atomically(out_dir, lambda folder: _write(folder, pickles, samples, meta))
    stats = dict(meta['stats'], reused=False, elapsed_s=time.perf_counter() - t0)
    log(format_stats(stats))
    log(f"wrote {out_dir} in {stats['elapsed_s']:.2f} s")
    return stats
