"""Bad input: one clear line naming file, line and fix; exit 2; no partial output."""
import pytest

import prepareDataset
from prep_helpers import TINY, leftovers, replace_line, snapshot, write_tiny

R, U, X = TINY['ratings.dat'], TINY['users.dat'], TINY['movies_extrainfos.dat']

CASES = {
    # id: (file edits, expected substrings of the message)
    'missing ratings': ({'ratings.dat': None}, ['ratings.dat: file not found', '--download']),
    'missing director list': ({'List_director.txt': None},
                              ['List_director.txt: file not found']),
    'missing extrainfos': ({'movies_extrainfos.dat': None},
                           ['movies_extrainfos.dat: file not found']),
    'empty ratings': ({'ratings.dat': ''}, ['ratings.dat: the file is empty']),
    'ratings line with 3 fields': ({'ratings.dat': replace_line(R, 4, '10::1::5')},
                                   ['ratings.dat, line 4', "expected 4 '::'-separated"]),
    'ratings stray colon': ({'ratings.dat': replace_line(R, 7, '10::1:2::5::1000000000')},
                            ['ratings.dat, line 7', "movie id '1:2' is not an integer"]),
    'rating not a number': ({'ratings.dat': replace_line(R, 2, '10::1::five::1000000000')},
                            ['ratings.dat, line 2', "rating 'five' is not an integer"]),
    'rating out of range': ({'ratings.dat': replace_line(R, 3, '10::1::6::1000000000')},
                            ['ratings.dat, line 3', 'rating 6 is outside 1..5']),
    'negative timestamp': ({'ratings.dat': replace_line(R, 5, '10::1::4::-5')},
                           ['ratings.dat, line 5', 'timestamp -5']),
    'user not in users.dat': ({'ratings.dat': replace_line(R, 23, '99::1::4::1000000300')},
                              ['ratings.dat, line 23', 'user id 99 is not in',
                               'users.dat; add the user']),
    'movie not in movies.dat': ({'ratings.dat': replace_line(R, 30, '2::8::4::1000001010')},
                                ['ratings.dat, line 30', 'movie id 8 is not in',
                                 'movies.dat']),
    'users line malformed': ({'users.dat': replace_line(U, 2, '5::F::35')},
                             ['users.dat, line 2', "expected 5 '::'-separated"]),
    'unknown gender': ({'users.dat': replace_line(U, 3, '7::X::56::20::33333')},
                       ['users.dat, line 3', "unknown gender 'X'"]),
    'unknown age': ({'users.dat': replace_line(U, 4, '10::M::24::12::44444')},
                    ['users.dat, line 4', "unknown age '24'"]),
    'unknown occupation': ({'users.dat': replace_line(U, 1, '2::M::1::21::11111')},
                           ['users.dat, line 1', "unknown occupation '21'"]),
    'duplicate user': ({'users.dat': U + '7::F::56::20::33333\n'},
                       ['users.dat, line 6', 'duplicate user id 7 (first on line 3)']),
    'unknown rate': ({'movies_extrainfos.dat': replace_line(
        X, 3, '3::C::1995::PG-14::N/A::N/A::Bo Kim::w::a::p::N/A')},
        ['movies_extrainfos.dat, line 3', "unknown rate 'PG-14'"]),
    'unknown genre': ({'movies_extrainfos.dat': replace_line(
        X, 1, '1::A::1995::PG::x::Drama, Horror::Ann Lee::w::a::p::N/A')},
        ['movies_extrainfos.dat, line 1', "unknown genre 'Horror'", 'List_genre.txt']),
    'unknown director': ({'movies_extrainfos.dat': replace_line(
        X, 8, '24::X::2000::PG::N/A::Drama::Zed Zed::w::a::p::N/A')},
        ['movies_extrainfos.dat, line 8', "unknown director 'Zed Zed'", 'List_director.txt']),
    'year not a number': ({'movies_extrainfos.dat': replace_line(
        X, 5, '4::D::N/A::PG-13::N/A::Comedy::N/A::w::a::p::N/A')},
        ['movies_extrainfos.dat, line 5', "year 'N/A' is not an integer"]),
    'extrainfos short line': ({'movies_extrainfos.dat': replace_line(X, 2, '2::B::1990')},
                              ['movies_extrainfos.dat, line 2', "expected 11"]),
    'movies.dat bad id': ({'movies.dat': replace_line(TINY['movies.dat'], 3, 'x::M::Drama')},
                          ['movies.dat, line 3', "movie id 'x'"]),
    'empty genre list': ({'List_genre.txt': ''}, ['List_genre.txt: the list is empty']),
    'no user with 20 ratings': ({'ratings.dat': '5::1::3::1000000000\n'},
                                ['ratings.dat: no user has 20 or more ratings']),
}


@pytest.mark.parametrize('edits,expected', CASES.values(), ids=CASES.keys())
def test_bad_input_exits_2_with_one_line_and_leaves_output_alone(tmp_path, capsys, edits,
                                                                 expected):
    out = tmp_path / 'out'
    good = write_tiny(tmp_path / 'good')
    assert prepareDataset.main(['--raw-dir', str(good), '--out-dir', str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()

    bad = write_tiny(tmp_path / 'bad', **edits)
    code = prepareDataset.main(['--raw-dir', str(bad), '--out-dir', str(out), '--force'])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith('error: ') and err.count('\n') == 1, err
    assert 'Traceback' not in err
    for part in expected:
        assert part in err, err
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_users_with_few_ratings_are_dropped_not_an_error(tmp_path, capsys):
    raw = write_tiny(tmp_path / 'raw')
    assert prepareDataset.main(['--raw-dir', str(raw), '--out-dir', str(tmp_path / 'o')]) == 0
    out = capsys.readouterr().out
    assert '1 of 4 users dropped' in out and 'num warm users: 2, num cold users: 1' in out
    assert 'split_time' in out and ' s' in out.splitlines()[-1]


def test_foreign_out_dir_is_not_replaced(tmp_path, capsys):
    raw = write_tiny(tmp_path / 'raw')
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'notes.txt').write_text('mine')
    assert prepareDataset.main(['--raw-dir', str(raw), '--out-dir', str(out)]) == 2
    assert 'did not write' in capsys.readouterr().err
    assert snapshot(out) == {'notes.txt': b'mine'}


def test_failure_while_writing_keeps_old_output(tmp_path, monkeypatch):
    from prepare_data import PrepareError, prepareMovielens
    raw, out = write_tiny(tmp_path / 'raw'), tmp_path / 'out'
    prepareMovielens.prepare_movielens(raw, out, log=lambda *a: None)
    before = snapshot(out)

    def broken(*args, **kwargs):
        raise OSError('disk full')
    monkeypatch.setattr(prepareMovielens, 'save_samples', broken)
    with pytest.raises(OSError):
        prepareMovielens.prepare_movielens(raw, out, force=True, log=lambda *a: None)
    assert snapshot(out) == before and leftovers(tmp_path) == []
    assert issubclass(PrepareError, Exception)
