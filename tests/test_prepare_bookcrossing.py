"""Book-Crossing preparation on the tiny hand-written dump (test_prepare_bookcrossing_data.py).

Worked out by hand:
- valid user profiles: 30, 7, 9, 60, 31, 40, 41 (12: NULL age; 15: age 3; 50: age 111;
  21, 22: no country; 44: malformed line; 99: no line).
- valid books: B01 B02 B03 B07 B11 C01..C18 (B04 1499, B05 0, B06 2011, B13 'abc': year;
  B10: no author; B08, B09: malformed lines; the second B01 line: a repeat, skipped).
- 177 rating records (line 24 malformed, line 51 blank): 3 implicit, 26 explicit ones of
  users without a profile (user 12's 20, one each of 15 21 22 50 44 99), 8 of books
  without a profile (B04; B08 X99 B10 B13; B05 B06; X98), 140 usable.
- usable per user: 30: 20, 7: 21 (C16 trimmed), 41: 20, 9: 10 + 10 (two blocks), 31: 20,
  40: 20, 60: 19 (dropped).  Kept users by id: 7 9 30 31 40 41; 9*6//10 = 5 warm, 41 cold.
- kept items: the 19 of BASE rated by all 6 (warm, > 5); C15 by 5 users (cold: exactly 5);
  C16 by user 41 only.  Item codes = index among the sorted ISBNs:
  B01 0, B02 1, B03 2, B07 3, B11 4, C01..C14 5..18, C15 19, C16 20.
- vocabularies (sorted by code point, over the kept users and items only): countries
  canada españa germany portugal österreich (no norway: user 60 is dropped); authors
  'Ann Lee' 'Bo Kim' 'Cy Ray' 'Zoë Adams' 'ann lee' 'Élodie Roux'; years 1500 1987 1999
  2001 2005 2010; publishers Dover Penguin 'Simon & Schuster' penguin 'Éditions Gallimard'.
"""
import pickle

import numpy as np
import pandas as pd
import pytest

import prepareDataset
from prep_helpers import leftovers, snapshot, write_tiny
from test_prepare_bookcrossing_data import write_tiny_bx
from prepare_data import (load_dataset_name, load_feature_sizes, load_samples, load_vocab,
                          prepare_bookcrossing, prepare_movielens)
from prepare_data import bx_readers
from prepare_data.prepareBookcrossing import country_of

R = list(range(20))
EXPECTED = {   # user: (x1, item codes, ratings, scenario codes)
    7: ([36, 3], R, [8, 7, 6, 5, 4, 3, 2, 1, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9],
        [0] * 19 + [1]),
    9: ([105, 3], R, [9, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5],
        [0] * 19 + [1]),
    30: ([20, 2], R[::-1], [6, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
         [1] + [0] * 19),
    31: ([0, 4], R, [10] * 19 + [1], [0] * 19 + [1]),
    40: ([55, 0], R, [5] * 20, [0] * 19 + [1]),
    41: ([14, 1], [20] + R[:19], [4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9],
         [3] + [2] * 19),
}
ODD, EVEN = [1, 3, 0], [2, 2, 1]          # C odd: Bo Kim/2001/Dover; even: Cy Ray/1999/Penguin
ITEM_TABLE = ([[3, 2, 1], [0, 4, 2], [4, 0, 3], [1, 5, 0], [2, 3, 0]]     # B01 B02 B03 B07 B11
              + [ODD if k % 2 else EVEN for k in range(1, 15)]              # C01..C14
              + [[2, 2, 0], [5, 1, 4]])                                     # C15, C16
ISBNS = ['B01', 'B02', 'B03', 'B07', 'B11'] + [f'C{k:02d}' for k in range(1, 17)]
VOCAB = {'countries': ['canada', 'españa', 'germany', 'portugal', 'österreich'],
         'authors': ['Ann Lee', 'Bo Kim', 'Cy Ray', 'Zoë Adams', 'ann lee', 'Élodie Roux'],
         'years': [1500, 1987, 1999, 2001, 2005, 2010],
         'publishers': ['Dover', 'Penguin', 'Simon & Schuster', 'penguin',
                        'Éditions Gallimard'],
         'ages': list(range(5, 111)), 'isbns': ISBNS}
STATS = {
    'bad_lines': {'BX-Users.csv': 3, 'BX-Books.csv': 3, 'BX-Book-Ratings.csv': 1},
    'first_bad_lines': {'BX-Users.csv': [8, 12, 13], 'BX-Books.csv': [9, 10, 13],
                        'BX-Book-Ratings.csv': [24]},
    'users_read': 12, 'users_valid': 7, 'users_age_missing': 1, 'users_age_out_of_range': 2,
    'users_no_country': 2, 'books_read': 28, 'books_valid': 23, 'books_year_out_of_range': 4,
    'books_no_author_or_publisher': 1, 'n_ratings': 177, 'implicit_ratings': 3,
    'explicit_ratings': 174, 'ratings_without_user_profile': 26,
    'ratings_without_book_profile': 8, 'ratings_usable': 140, 'users_with_usable_ratings': 7,
    'users_kept': 6, 'users_dropped': 1, 'warm_users': 5, 'cold_users': 1, 'warm_items': 19,
    'cold_items': 2, 'samples': 120}
# File lines of user 7's kept ratings: its block starts on line 25 (B01); 26 C17 is
# implicit, 28 B08, 32 X99, 38 B10 and 44 B13 have no book profile, 50 C16 is the 21st.
LINES_7 = [25, 27, 29, 30, 31, 33, 34, 35, 36, 37, 39, 40, 41, 42, 43, 45, 46, 47, 48, 49]


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp('bx')
    logs = []
    stats = prepare_bookcrossing(write_tiny_bx(root / 'raw'), root / 'out', log=logs.append)
    return root / 'out', stats, '\n'.join(logs)


def _load(out, name):
    with open(out / name, 'rb') as f:
        return pickle.load(f)


def test_statistics_and_log(prepared):
    out, stats, log = prepared
    assert {k: stats[k] for k in STATS} == STATS
    assert not stats['reused']
    assert 'BX-Users.csv 3 (first: line 8, 12, 13)' in log
    assert 'BX-Book-Ratings.csv 1 (first: line 24)' in log
    assert 'num warm users: 5, num cold users: 1' in log
    assert '6 user samples, 120 ratings' in log


def test_samples_through_the_shared_loader(prepared):
    out = prepared[0]
    samples = load_samples(out)
    assert [s.user_id for s in samples] == [7, 9, 30, 31, 40, 41]        # id order
    table = np.array(ITEM_TABLE)
    for s in samples:
        x1, codes, y, y0 = EXPECTED[s.user_id]
        assert s.x1.tolist() == x1
        assert s.item_ids.tolist() == codes and s.item_rows.tolist() == codes
        assert s.y.tolist() == y and s.y0.tolist() == y0
        assert s.x2.shape == (20, 3) and s.x2.dtype == np.int64
        assert s.x2.tolist() == table[codes].tolist()
    assert samples[0].item_table.tolist() == ITEM_TABLE


def test_feature_sizes_vocab_and_dataset_name(prepared):
    out = prepared[0]
    assert load_feature_sizes(out) == {'n_age_bk': 106, 'n_location': 5, 'n_year_bk': 6,
                                       'n_author': 6, 'n_publisher': 5}
    assert load_vocab(out) == VOCAB
    assert load_dataset_name(out) == 'bookcrossing'


def test_reference_style_pickles(prepared):
    out = prepared[0]
    users = _load(out, 'user_state_ids.p')
    assert users['user_all_ids'].tolist() == [7, 9, 30, 31, 40, 41]
    assert users['user_warm_ids'] == [7, 9, 30, 31, 40] and users['user_cold_ids'] == [41]
    items = _load(out, 'item_state_ids.p')
    assert items['item_all_ids'].tolist() == ISBNS
    assert items['item_warm_ids'] == ISBNS[:19] and items['item_cold_ids'] == ['C15', 'C16']
    user_dict = _load(out, 'user_dict.p')
    assert {u: v.tolist() for u, v in user_dict.items()} == {u: e[0] for u, e in EXPECTED.items()}
    item_dict = _load(out, 'item_dict.p')
    assert {i: v.tolist() for i, v in item_dict.items()} == dict(zip(ISBNS, ITEM_TABLE))
    ratings = _load(out, 'ratings_sorted.p')
    assert isinstance(ratings, pd.DataFrame) and len(ratings) == 120
    assert list(ratings.columns) == ['user_id', 'item_id', 'rating', 'line']
    r7 = ratings[ratings.user_id == 7]
    assert r7['line'].tolist() == LINES_7
    assert r7['item_id'].tolist() == ISBNS[:20]
    assert r7['rating'].tolist() == EXPECTED[7][2]


def test_support_and_query_split_in_file_order(prepared):
    s = {x.user_id: x for x in load_samples(prepared[0])}[30]
    assert s.y[:15].tolist() == [6, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5]
    assert s.y[15:].tolist() == [6, 7, 8, 9, 10]


def test_reused_when_up_to_date_and_rebuilt_with_force(prepared, tmp_path):
    out = prepared[0]
    raw = out.parent / 'raw'
    logs = []
    assert prepare_bookcrossing(raw, out, log=logs.append)['reused']
    assert 'up to date' in logs[0]
    assert not prepare_bookcrossing(raw, out, force=True, log=logs.append)['reused']
    assert not leftovers(out.parent)


def test_country_and_field_parsing():
    loc = pd.Series(['berlin, berlin, germany', 'Porto, Porto,  Portugal ', 'köln, nrw, ',
                     'paris', 'a, b, c, New Zealand', ''])
    assert country_of(loc).tolist() == ['germany', 'portugal', '', 'paris', 'new zealand', '']
    # a UTF-8 BOM is dropped; cp1252 (0x92 is ’); 0x81, undefined there, falls back to Latin-1
    assert bx_readers.decode(b'\xef\xbb\xbfZo\xeb\x92s \x81') == 'Zoë’s \x81'


def test_dataset_name_of_movielens_output(tmp_path):
    prepare_movielens(write_tiny(tmp_path / 'raw'), tmp_path / 'out', log=lambda *a: None)
    assert load_dataset_name(tmp_path / 'out') == 'movielens'


def test_cli_prepares_bookcrossing(tmp_path, capsys):
    raw = write_tiny_bx(tmp_path / 'raw')
    args = ['--dataset', 'bookcrossing', '--raw-dir', str(raw), '--out-dir', str(tmp_path / 'o')]
    assert prepareDataset.main(args) == 0
    assert '6 user samples, 120 ratings' in capsys.readouterr().out
    assert len(load_samples(tmp_path / 'o')) == 6
    assert prepareDataset.parse_args(['--dataset', 'bookcrossing']).raw_dir == \
        prepareDataset.DEFAULT_RAW_BX
    assert prepareDataset.parse_args([]).out_dir == prepareDataset.DEFAULT_OUT


def test_refuses_to_replace_movielens_output(tmp_path, capsys):
    ml = tmp_path / 'ml'
    prepare_movielens(write_tiny(tmp_path / 'mlraw'), ml, log=lambda *a: None)
    before = snapshot(ml)
    raw = write_tiny_bx(tmp_path / 'raw')
    code = prepareDataset.main(['--dataset', 'bookcrossing', '--raw-dir', str(raw),
                                '--out-dir', str(ml)])
    err = capsys.readouterr().err
    assert code == 2 and 'holds prepared movielens data' in err and err.count('\n') == 1
    assert snapshot(ml) == before
