"""The compact per-user sample file (``samples.npz``) and ``meta.json``.

The reference writes four pickles per user (x1, x2, y, y0: 24,160 files, 2.2 GB for
ML-1M).  Here all users share one file:

    user_ids    int64 (U,)      users in the notes' order
    x1          int64 (U, 3)    [gender, age, occupation] indices
    offsets     int64 (U+1,)    user k's ratings are rows offsets[k]:offsets[k+1]
    item_ids    int64 (N,)      rated item per row
    item_rows   int32 (N,)      row of that item in item_table
    y           uint8 (N,)      rating 1..5
    y0          uint8 (N,)      scenario code 0 W-W, 1 W-C, 2 C-W, 3 C-C
    item_table  uint8 (K, F)    item features [rate, year, genre.., director..]
    table_ids   int64 (K,)      item id of each table row (ascending)

``load_samples`` rebuilds per-user objects whose ``x2`` is gathered from the item table
on access, so loading is fast and small however many users there are.
"""
import json
import os

import numpy as np

from .errors import DataNotPreparedError

SAMPLES_FILE = 'samples.npz'
META_FILE = 'meta.json'
FORMAT_VERSION = 1


class UserSample:
    """One user's sample: ``user_id``, ``x1`` (3,), ``x2`` (n, F), ``y`` (n,), ``y0`` (n,).

    All arrays are int64 as in the reference; n = 20 unless some rated item had no
    extra info (notes, departure 7).  Support set = the first 15 rows, query = the rest.
    ``x2`` is built on each access from ``item_table[item_rows]``; code that batches
    many users can use ``item_rows`` with the shared ``item_table`` directly.
    Unpacks like a tuple: ``user_id, x1, x2, y, y0 = sample``.
    """
    __slots__ = ('user_id', 'x1', 'y', 'y0', 'item_ids', 'item_rows', 'item_table')

    def __init__(self, user_id, x1, y, y0, item_ids, item_rows, item_table):
        self.user_id, self.x1, self.y, self.y0 = user_id, x1, y, y0
        self.item_ids, self.item_rows, self.item_table = item_ids, item_rows, item_table

    @property
    def x2(self):
        return self.item_table[self.item_rows].astype(np.int64)

    def __iter__(self):
        return iter((self.user_id, self.x1, self.x2, self.y, self.y0))

    def __len__(self):
        return len(self.y)

    def __repr__(self):
        return (f"UserSample(user_id={self.user_id}, n={len(self.y)}, "
                f"x2=({len(self.y)}, {self.item_table.shape[1]}))")


def save_samples(path, user_ids, x1, offsets, item_ids, item_rows, y, y0, item_table,
                 table_ids):
    with open(path, 'wb') as f:
        np.savez_compressed(
            f, user_ids=user_ids.astype(np.int64), x1=x1.astype(np.int64),
            offsets=offsets.astype(np.int64), item_ids=item_ids.astype(np.int64),
            item_rows=item_rows.astype(np.int32), y=y.astype(np.uint8),
            y0=y0.astype(np.uint8), item_table=item_table,
            table_ids=table_ids.astype(np.int64))


def _require(out_dir, name):
    path = os.path.join(os.fspath(out_dir), name)
    if not os.path.isfile(path):
        raise DataNotPreparedError(os.fspath(out_dir), name)
    return path


def load_samples(out_dir):
    """Per-user samples prepared in ``out_dir``, as a list of :class:`UserSample`.

    Users come in the notes' order (first appearance in ratings.dat among the users
    with at least 20 ratings).  Raises :class:`DataNotPreparedError` if ``out_dir``
    holds no prepared data.
    """
    _require(out_dir, META_FILE)
    with np.load(_require(out_dir, SAMPLES_FILE)) as z:
        user_ids, x1, offsets = z['user_ids'], z['x1'], z['offsets']
        item_ids, item_rows = z['item_ids'], z['item_rows']
        y, y0 = z['y'].astype(np.int64), z['y0'].astype(np.int64)
        table = z['item_table']
    bounds = offsets.tolist()
    return [UserSample(int(u), x1[k], y[a:b], y0[a:b], item_ids[a:b], item_rows[a:b], table)
            for k, (u, a, b) in enumerate(zip(user_ids.tolist(), bounds[:-1], bounds[1:]))]


def read_meta(out_dir):
    with open(_require(out_dir, META_FILE), encoding='utf-8') as f:
        return json.load(f)


def load_feature_sizes(out_dir):
    """Feature cardinalities of the prepared data, for sizing the model's layers.

    Keys: n_gender, n_age, n_occupation, n_rate, n_year, n_genre, n_director
    (ML-1M: 2, 7, 21, 6, 81, 25, 2186).
    """
    return dict(read_meta(out_dir)['feature_sizes'])
