"""Each preparation step on the tiny hand-written folder (tests/prep_helpers.py).

Hand-worked expectations: 64 ratings, sorted time row round(0.8*64)=51 falls in user 2's
ten tied ratings at B+1000, so split = B+1000 and user 2 (first rating B+1000) is cold;
users 10 and 7 are warm; user 5 (3 ratings) is dropped; user 10's 21st rating (item 24)
is trimmed.  Kept item counts: 1: 6+5=11 (warm), 2: 10 (cold), 3: 6+5=11 (warm),
4: 4+4=8, 5: 4+10=14 (warm), 6: 5, 25: 1; item 25 has no extra info (departure 7).
Years in file order: 1995, 1990, 1980, 2000.
"""
import datetime as dt
import pickle

import numpy as np
import pandas as pd
import pytest

from prep_helpers import B, write_tiny
from prepare_data import (DataNotPreparedError, UserSample, load_feature_sizes,
                          load_samples, prepare_movielens, readers, transforms)

USERS = [10, 2, 7]
ITEMS10 = [1] * 6 + [3] * 6 + [4] * 4 + [5] * 4
ITEMS2 = [2] * 10 + [3] * 5 + [6] * 5
ITEMS7 = [1] * 5 + [25] + [4] * 4 + [5] * 10
Y10 = [1, 2, 3, 4, 5] * 4
Y2 = [5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2]
Y7 = [5, 1, 4, 2, 3, 3, 1, 5, 2, 4, 5, 1, 4, 2, 3, 3, 1, 5, 2, 4]
T10 = [10 * k for k in range(20)]
T2 = [1000] * 10 + [1010 + 10 * k for k in range(10)]
T7 = [100 + 10 * (k // 2) for k in range(20)]
#            rate year Drama Comedy nan | Ann Bo nan
ITEM_ROWS = {1: [3, 0, 1, 0, 0, 1, 0, 0],      # PG, 1995
             2: [5, 1, 1, 1, 0, 1, 1, 0],      # R, 1990, co-director note removed
             3: [4, 0, 0, 0, 1, 0, 1, 0],      # G, genre N/A -> 'nan'
             4: [0, 3, 0, 1, 0, 0, 0, 1],      # PG-13, 2000, director N/A -> 'nan'
             5: [1, 1, 1, 0, 0, 1, 0, 0],      # UNRATED
             6: [5, 2, 1, 1, 0, 1, 1, 0]}      # R, 1980
X1 = {10: [0, 2, 12], 2: [0, 0, 0], 7: [1, 6, 20]}      # M/25/12, M/1/0, F/56/20
Y0 = {10: [0] * 12 + [1] * 4 + [0] * 4,
      2: [3] * 10 + [2] * 5 + [3] * 5,
      7: [0] * 5 + [1] * 4 + [0] * 10}                  # item 25's code dropped


@pytest.fixture
def prepared(tmp_path):
    raw = write_tiny(tmp_path / 'raw')
    stats = prepare_movielens(raw, tmp_path / 'out', log=lambda *a: None)
    return tmp_path / 'out', stats


def _load(out, name):
    with open(out / name, 'rb') as f:
        return pickle.load(f)


def local(offset):
    return np.datetime64(dt.datetime.fromtimestamp(B + offset), 'ns')


# ----- step functions on small arrays ---------------------------------------------

def test_local_datetime64_matches_fromtimestamp():
    ts = np.array([0, B, B + 1, 1046476799, 975628800])
    expected = [np.datetime64(dt.datetime.fromtimestamp(int(t)), 'ns') for t in ts]
    assert list(transforms.local_datetime64(ts)) == expected


def test_split_time_is_row_round_point8_n():
    times = np.array([5, 1, 4, 2, 3, 9, 8, 7, 6, 0])        # n=10: row 8 of sorted
    assert transforms.split_time(times) == (0, 8, 9)
    assert transforms.split_time(np.arange(64)[::-1])[1] == 51


def test_select_users_order_ties_and_drop():
    user = np.array([3, 3, 1, 1, 1, 3, 2])
    time = np.array([5, 1, 7, 7, 6, 1, 0])
    sel = transforms.select_users(user, time, split=6, max_count=2)
    assert sel.user_ids.tolist() == [3, 1]                  # first appearance; 2 dropped
    # user 3: times 1 (row 1) and 1 (row 5) tie -> file order; user 1: 6 (row 4), 7 (row 2)
    assert sel.rows.tolist() == [1, 5, 4, 2]
    assert sel.warm.tolist() == [True, False]               # 1 < 6; 6 < 6 is false
    assert (sel.n_users, sorted(sel.counts.tolist())) == (3, [1, 3, 3])


def test_item_states_warm_means_more_than_ten():
    ids, warm, counts = transforms.item_states(np.array([7] * 11 + [3] * 10 + [5]))
    assert ids.tolist() == [3, 5, 7] and warm.tolist() == [False, False, True]
    assert counts.tolist() == [10, 1, 11]


def test_scenario_codes():
    codes = transforms.scenario_codes(np.array([True, True, False, False]),
                                      np.array([True, False, True, False]))
    assert codes.tolist() == [0, 1, 2, 3]


def test_item_feature_table_layout_and_dtype():
    table = transforms.item_feature_table(np.array([5, 0]), np.array([2, 300]),
                                          [[0], [1, 2]], [[1], [0]], 3, 2)
    assert table.dtype == np.uint16                          # 300 needs 16 bits
    assert table.tolist() == [[5, 2, 1, 0, 0, 0, 1], [0, 300, 0, 1, 1, 1, 0]]


def test_read_extrainfos_encodes_like_the_reference(tmp_path):
    raw = write_tiny(tmp_path)
    genres, directors = readers.read_list(raw / 'List_genre.txt'), readers.read_list(
        raw / 'List_director.txt')
    assert genres == ['Drama', 'Comedy', 'nan'] and directors == ['Ann Lee', 'Bo Kim', 'nan']
    info = readers.read_extrainfos(raw / 'movies_extrainfos.dat', genres, directors, 'g', 'd')
    assert info.ids.tolist() == [1, 2, 3, 9, 4, 5, 6, 24]
    assert info.years == [1995, 1990, 1980, 2000]
    assert info.year.tolist() == [0, 1, 0, 2, 3, 1, 2, 3]
    assert info.rate.tolist() == [3, 5, 4, 2, 0, 1, 5, 3]
    assert info.genres[1] == [1, 0] and info.genres[2] == [2]
    assert info.directors[1] == [1, 0] and info.directors[4] == [2]


# ----- the whole pipeline on the tiny folder ---------------------------------------

def test_ratings_sorted(prepared):
    out, _ = prepared
    df = _load(out, 'ratings_sorted.p')
    expected = pd.DataFrame({
        'user_id': [10] * 20 + [2] * 20 + [7] * 20,
        'item_id': ITEMS10 + ITEMS2 + ITEMS7,
        'rating': Y10 + Y2 + Y7,
        'time': [local(t) for t in T10 + T2 + T7]})
    pd.testing.assert_frame_equal(df, expected, check_exact=True)


def test_state_ids(prepared):
    out, _ = prepared
    users = _load(out, 'user_state_ids.p')
    assert list(users) == ['user_all_ids', 'user_warm_ids', 'user_cold_ids']
    assert isinstance(users['user_all_ids'], np.ndarray)
    assert users['user_all_ids'].tolist() == USERS
    assert users['user_warm_ids'] == [10, 7] and users['user_cold_ids'] == [2]
    items = _load(out, 'item_state_ids.p')
    assert items['item_all_ids'].tolist() == [1, 2, 3, 4, 5, 6, 25]
    assert items['item_warm_ids'] == [1, 3, 5] and items['item_cold_ids'] == [2, 4, 6, 25]


def test_dictionaries(prepared):
    out, _ = prepared
    user_dict = _load(out, 'user_dict.p')
    assert list(user_dict) == USERS
    assert {k: v.tolist() for k, v in user_dict.items()} == X1
    assert all(v.dtype == np.int64 for v in user_dict.values())
    item_dict = _load(out, 'item_dict.p')
    assert list(item_dict) == [1, 2, 3, 4, 5, 6]              # 25 has no extra info
    assert {k: v.tolist() for k, v in item_dict.items()} == ITEM_ROWS
    assert all(v.dtype == np.uint8 for v in item_dict.values())


def test_samples(prepared):
    out, _ = prepared
    samples = load_samples(out)
    assert [s.user_id for s in samples] == USERS
    items = {10: ITEMS10, 2: ITEMS2, 7: [i for i in ITEMS7 if i != 25]}
    ys = {10: Y10, 2: Y2, 7: Y7[:5] + Y7[6:]}
    for s in samples:
        assert isinstance(s, UserSample)
        assert s.x1.dtype == s.x2.dtype == s.y.dtype == s.y0.dtype == np.int64
        assert s.x1.tolist() == X1[s.user_id]
        assert s.x2.tolist() == [ITEM_ROWS[i] for i in items[s.user_id]]
        assert s.y.tolist() == ys[s.user_id]
        assert s.y0.tolist() == Y0[s.user_id]
        user_id, x1, x2, y, y0 = s
        assert user_id == s.user_id and x2.shape == (len(y), 8)
    assert [len(s) for s in samples] == [20, 20, 19]


def test_stats_and_feature_sizes(prepared):
    out, stats = prepared
    assert {k: stats[k] for k in ('n_ratings', 'n_users', 'users_kept', 'users_dropped',
                                  'warm_users', 'cold_users', 'warm_items', 'cold_items',
                                  'items_without_info', 'ratings_dropped_without_info',
                                  'samples', 'reused')} == {
        'n_ratings': 64, 'n_users': 4, 'users_kept': 3, 'users_dropped': 1,
        'warm_users': 2, 'cold_users': 1, 'warm_items': 3, 'cold_items': 4,
        'items_without_info': 1, 'ratings_dropped_without_info': 1, 'samples': 59,
        'reused': False}
    assert stats['split_time'] == str(pd.Timestamp(local(1000)))
    assert stats['start_time'] == str(pd.Timestamp(local(0)))
    assert stats['end_time'] == str(pd.Timestamp(local(1100)))
    assert load_feature_sizes(out) == {'n_gender': 2, 'n_age': 7, 'n_occupation': 21,
                                       'n_rate': 6, 'n_year': 4, 'n_genre': 3,
                                       'n_director': 3}


# ----- reuse, force, missing output ------------------------------------------------

def test_up_to_date_output_is_reused_and_force_rebuilds(prepared):
    out, _ = prepared
    raw = out.parent / 'raw'
    mtime = (out / 'samples.npz').stat().st_mtime_ns
    messages = []
    again = prepare_movielens(raw, out, log=messages.append)
    assert again['reused'] and 'up to date' in messages[0]
    assert (out / 'samples.npz').stat().st_mtime_ns == mtime
    assert not prepare_movielens(raw, out, force=True, log=lambda *a: None)['reused']
    # a changed input is noticed without --force
    with open(raw / 'users.dat', 'a') as f:
        f.write('12::M::18::1::00000\n')
    assert not prepare_movielens(raw, out, log=lambda *a: None)['reused']


def test_load_without_prepared_data_names_the_folder(tmp_path):
    with pytest.raises(DataNotPreparedError) as e:
        load_samples(tmp_path / 'nothing')
    message = str(e.value)
    assert str(tmp_path / 'nothing') in message and 'python prepareDataset.py' in message
    assert '\n' not in message
    with pytest.raises(FileNotFoundError):
        load_feature_sizes(tmp_path)
