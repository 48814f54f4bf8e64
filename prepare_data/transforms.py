"""Pure, vectorised transforms of the notes' preparation steps 1-6.

Each function takes and returns NumPy arrays; nothing here reads or writes files.
"""
import datetime as _dt
from dataclasses import dataclass

import numpy as np

MAX_COUNT = 20            # ratings kept per user (support 15 + query 5)
WARM_ITEM_MIN = 11        # an item is warm with more than 10 kept ratings


def local_datetime64(timestamps):
    """Unix seconds -> datetime64[ns] of the *local* wall-clock time.

    The reference converts with ``datetime.fromtimestamp`` (local time zone), so its
    ``time`` column and split time depend on the machine's zone.  The UTC offset is
    looked up once per day; only on a day whose offset changes (a DST switch) is it
    looked up per timestamp.
    """
    ts = np.asarray(timestamps, np.int64)

    def offset(t):
        t = int(t)
        local = _dt.datetime.fromtimestamp(t)
        utc = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).replace(tzinfo=None)
        return int((local - utc).total_seconds())

    days, inverse = np.unique(ts // 86400, return_inverse=True)
    start = np.array([offset(d * 86400) for d in days], np.int64)
    end = np.array([offset(d * 86400 + 86399) for d in days], np.int64)
    offsets = start[inverse]
    switching = np.flatnonzero((start != end)[inverse])
    if switching.size:
        offsets[switching] = [offset(t) for t in ts[switching]]
    return ((ts + offsets) * 1_000_000_000).astype('datetime64[ns]')


def split_time(times):
    """Step 1: start, split and end time; split = time at row round(0.8 n) in time order."""
    ordered = np.sort(times)
    return ordered[0], ordered[round(0.8 * len(times))], ordered[-1]


@dataclass
class UserSelection:
    rows: np.ndarray         # indices into the ratings, the kept ones in output order
    user_ids: np.ndarray     # kept users, order of first appearance in ratings.dat
    warm: np.ndarray         # bool per kept user: first rating before split_time
    n_users: int             # distinct users in ratings.dat
    counts: np.ndarray       # ratings per distinct user (for the statistics)


def select_users(user, time, split, max_count=MAX_COUNT):
    """Step 2: per user, the first max_count ratings by time (ties in file order).

    Users with fewer than max_count ratings are dropped.  ``np.lexsort`` is stable like
    the reference's ``sort_values(['user_id', 'time'])``.
    """
    order = np.lexsort((time, user))
    by_user = user[order]
    starts = np.flatnonzero(np.r_[True, by_user[1:] != by_user[:-1]])
    counts = np.diff(np.r_[starts, len(by_user)])
    ids_sorted = by_user[starts]
    _, first_seen = np.unique(user, return_index=True)   # aligned with ids_sorted
    keep = counts >= max_count
    appearance = np.argsort(first_seen[keep], kind='stable')
    kept_starts = starts[keep][appearance]
    rows = order[(kept_starts[:, None] + np.arange(max_count)).ravel()]
    warm = time[order[kept_starts]] < split
    return UserSelection(rows, ids_sorted[keep][appearance], warm, len(starts), counts)


def item_states(kept_items):
    """Step 3: sorted item ids of the kept ratings, and whether each is warm (> 10)."""
    ids, counts = np.unique(kept_items, return_counts=True)
    return ids, counts >= WARM_ITEM_MIN, counts


def scenario_codes(user_warm, item_warm):
    """Step 6: 0 W-W, 1 W-C, 2 C-W, 3 C-C."""
    return 2 * (~user_warm).astype(np.int64) + (~item_warm).astype(np.int64)


def item_feature_table(rate, year, genres, directors, n_genre, n_director):
    """Step 5: rows [rate, year, genre multi-hot, director multi-hot], smallest dtype.

    All values are small non-negative integers (indices and 0/1), so the table is
    stored as the smallest unsigned type holding them (uint8 for ML-1M) instead of the
    reference's int64; ``.astype(np.int64)`` gives the reference's values.
    """
    n = len(rate)
    dtype = np.min_scalar_type(max(int(rate.max(initial=0)), int(year.max(initial=0)), 1))
    table = np.zeros((n, 2 + n_genre + n_director), dtype)
    table[:, 0], table[:, 1] = rate, year
    for col0, sets in ((2, genres), (2 + n_genre, directors)):
        lengths = [len(s) for s in sets]
        rows = np.repeat(np.arange(n), lengths)
        cols = np.fromiter((c for s in sets for c in s), np.int64, sum(lengths))
        table[rows, col0 + cols] = 1
    return table
