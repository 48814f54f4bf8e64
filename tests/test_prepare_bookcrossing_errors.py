"""Book-Crossing: structural problems are one line naming file, line and fix; exit 2;
the previous output is left as it was and no temporary folder remains."""
import pytest

import prepareDataset
from prep_helpers import leftovers, replace_line, snapshot
from test_prepare_bookcrossing_data import RATINGS, USERS, write_tiny_bx

HEADER_R = '"User-ID";"ISBN";"Book-Rating"\n'

CASES = {
    'missing books file': ({'BX_Books__csv': None},
                           ['BX-Books.csv: file not found', 'can no longer be downloaded',
                            'data_raw/book_crossing']),
    'empty ratings file': ({'BX_Book_Ratings__csv': ''},
                           ['BX-Book-Ratings.csv: the file is empty']),
    'ratings header only': ({'BX_Book_Ratings__csv': HEADER_R},
                            ['BX-Book-Ratings.csv: the file has a header but no records']),
    'unquoted header': ({'BX_Book_Ratings__csv': replace_line(
        RATINGS, 1, 'User-ID;ISBN;Book-Rating')},
        ['BX-Book-Ratings.csv, line 1: expected the header "User-ID";"ISBN";"Book-Rating"',
         'put the original file there']),
    'comma-separated users': ({'BX_Users__csv': USERS.replace('";"', '","')},
                              ['BX-Users.csv, line 1: expected the header']),
    'no header': ({'BX_Users__csv': '\n'.join(USERS.splitlines()[1:]) + '\n'},
                  ['BX-Users.csv, line 1: expected the header']),
    'no line parses': ({'BX_Users__csv': USERS.splitlines()[0] + '\n1;a;2\n3;b;4\n'},
                       ['BX-Users.csv, line 2: no line of the file has the dump',
                        '3 \';\'-separated']),
    'non-numeric user id in ratings': ({'BX_Book_Ratings__csv': replace_line(
        RATINGS, 3, '"abc";"B04";"9"')},
        ['BX-Book-Ratings.csv, line 3: User-ID \'abc\' is not a non-negative integer']),
    'non-numeric rating': ({'BX_Book_Ratings__csv': replace_line(
        RATINGS, 5, '"30";"C13";"x"')},
        ['BX-Book-Ratings.csv, line 5: Book-Rating \'x\' is not']),
    'rating above 10': ({'BX_Book_Ratings__csv': replace_line(RATINGS, 6, '"30";"C12";"11"')},
                        ['BX-Book-Ratings.csv, line 6: Book-Rating 11 is outside 0..10']),
    'no user with 20 ratings': ({'BX_Book_Ratings__csv': HEADER_R + '"30";"B01";"5"\n'},
                                ['BX-Book-Ratings.csv: no user has 20 or more explicit']),
}


@pytest.mark.parametrize('edits,expected', CASES.values(), ids=CASES.keys())
def test_structural_error_exits_2_with_one_line_and_leaves_output_alone(tmp_path, capsys,
                                                                       edits, expected):
    out = tmp_path / 'out'
    good = write_tiny_bx(tmp_path / 'good')
    base = ['--dataset', 'bookcrossing', '--out-dir', str(out)]
    assert prepareDataset.main(base + ['--raw-dir', str(good)]) == 0
    before = snapshot(out)
    capsys.readouterr()

    bad = write_tiny_bx(tmp_path / 'bad', **edits)
    code = prepareDataset.main(base + ['--raw-dir', str(bad), '--force'])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith('error: ') and err.count('\n') == 1, err
    for part in expected:
        assert part in err, err
    assert snapshot(out) == before
    assert not leftovers(tmp_path)


def test_first_error_without_previous_output_leaves_nothing(tmp_path, capsys):
    bad = write_tiny_bx(tmp_path / 'bad', BX_Book_Ratings__csv='')
    out = tmp_path / 'out'
    assert prepareDataset.main(['--dataset', 'bookcrossing', '--raw-dir', str(bad),
                                '--out-dir', str(out)]) == 2
    assert not out.exists() and not leftovers(tmp_path)


def test_download_is_a_clear_error(tmp_path, capsys):
    code = prepareDataset.main(['--dataset', 'bookcrossing', '--download',
                                '--raw-dir', str(tmp_path / 'raw')])
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1
    assert 'can no longer be downloaded' in err and 'data_raw/book_crossing/' in err
    assert not (tmp_path / 'raw').exists()


def test_bad_rows_are_skipped_not_errors(tmp_path):
    """Malformed lines anywhere (not a structural problem) are counted, not fatal."""
    from prepare_data import prepare_bookcrossing
    ratings = replace_line(RATINGS, 10, '"30";"C09"')               # cut short
    ratings = replace_line(ratings, 11, 'C08;8')                    # unquoted
    stats = prepare_bookcrossing(write_tiny_bx(tmp_path / 'raw', BX_Book_Ratings__csv=ratings),
                                 tmp_path / 'out', log=lambda *a: None)
    assert stats['bad_lines']['BX-Book-Ratings.csv'] == 3
    assert stats['first_bad_lines']['BX-Book-Ratings.csv'] == [10, 11, 24]
    assert stats['users_kept'] == 5                                 # user 30 lost 2 of 20
