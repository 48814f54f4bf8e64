"""Parse the three files of the Book-Crossing dump (BX-Users, BX-Books, BX-Book-Ratings).

The dump's format: a header line, then one record per line, fields separated by ``;``
and each enclosed in double quotes (``"1";"nyc, new york, usa";NULL`` — the one bare
value is an unquoted ``NULL`` age), in Windows-1252/Latin-1.

What is a *bad row* and what is an *error* (see README_BOOKCROSSING.md):

- A line that is not ``"f1";"f2";...;"fn"`` with exactly n fields (a title holding
  ``";"``, a line cut short, a stray quote at the start or end), or whose id field is
  empty or, in BX-Users, not an integer, is **skipped and counted** (the real dump has
  such lines; failing on them would make it unusable).  Later repeats of a User-ID or
  an ISBN in the profile files are skipped and counted the same way.
- A problem with a whole file is a :class:`PrepareError` naming file, line and fix: a
  missing file, an empty file, a header other than the dump's, a file in which no line
  parses, and in BX-Book-Ratings.csv a User-ID or Book-Rating that is not an integer or
  a rating outside 0..10 (the ratings are the data itself: a wrong value there means a
  wrong or corrupt file, not a typo to skip).

Blank lines are ignored.  Values are kept as text here; the filters of the paper are in
:mod:`prepare_data.prepareBookcrossing`.
"""
import codecs
import csv
import html
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import PrepareError, where

USERS_FILE, BOOKS_FILE, RATINGS_FILE = 'BX-Users.csv', 'BX-Books.csv', 'BX-Book-Ratings.csv'
RAW_FILES = (USERS_FILE, BOOKS_FILE, RATINGS_FILE)
HEADERS = {
    USERS_FILE: ('User-ID', 'Location', 'Age'),
    BOOKS_FILE: ('ISBN', 'Book-Title', 'Book-Author', 'Year-Of-Publication', 'Publisher',
                 'Image-URL-S', 'Image-URL-M', 'Image-URL-L'),
    RATINGS_FILE: ('User-ID', 'ISBN', 'Book-Rating'),
}
FIX_MISSING = ("the Book-Crossing dump can no longer be downloaded: obtain BX-Users.csv, "
               "BX-Books.csv and BX-Book-Ratings.csv yourself and put them in this folder "
               "(default data_raw/book_crossing), or run with --synthetic for demo data")
MAX_RATING = 10
_BOM = b'\xef\xbb\xbf'


def _latin1_fallback(err):
    """cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined: decode those as Latin-1."""
    return err.object[err.start:err.end].decode('latin-1'), err.end


codecs.register_error('bx_latin1_fallback', _latin1_fallback)


def decode(data):
    """Dump bytes -> text: Windows-1252 with a Latin-1 fallback (never fails, injective)."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    return data.decode('cp1252', errors='bx_latin1_fallback')


@dataclass
class Table:
    """The well-formed records of one file: text columns, their line numbers, and the
    line numbers of the skipped (malformed) lines."""
    path: object
    columns: dict                       # header name -> pandas Series of str
    lines: np.ndarray                   # int64 line number of each record
    bad_lines: list = field(default_factory=list)

    def __len__(self):
        return len(self.lines)


def _counts(mask, starts, ends):
    """Per line [starts[k], ends[k]): how many positions of ``mask`` are set."""
    pos = np.flatnonzero(mask)
    return np.searchsorted(pos, ends) - np.searchsorted(pos, starts)


def read_table(path):
    """Read one dump file into a :class:`Table` (header checked, bad lines skipped).

    Line structure is checked on the raw bytes with NumPy (``"``, ``;`` and line ends are
    single bytes in Windows-1252).  The records whose fields hold no ``"`` or ``;`` --
    nearly all -- are parsed by pandas' C parser once the quotes are removed; the few
    others are split on ``";"`` in Python.
    """
    name = path.name
    header = HEADERS[name]
    n = len(header)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PrepareError(f"{path}: file not found; {FIX_MISSING}") from None
    except OSError as e:
        raise PrepareError(f"{path}: cannot read ({e.strerror}); check the file's "
                           f"permissions") from None
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    data = data.replace(b'\r\n', b'\n').replace(b'\r', b'\n')      # universal newlines
    # The dump's only bare value: an unquoted NULL (BX-Users' Age). Quote it.
    if not data.endswith(b'\n'):
        data += b'\n'
    for bare, quoted in ((b';NULL\n', b';"NULL"\n'), (b';NULL;', b';"NULL";')):
        data = data.replace(bare, quoted).replace(bare, quoted)      # twice: ;NULL;NULL;
    buf = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(buf == 10)                                  # one per line
    starts = np.r_[0, ends[:-1] + 1]
    space = (buf == 32) | (buf == 9) | (buf == 11) | (buf == 12)
    content = (ends - starts) - _counts(space, starts, ends)
    nonblank = np.flatnonzero(content > 0)
    if not len(nonblank):
        raise PrepareError(f"{path}: the file is empty; {FIX_MISSING}")
    first = int(nonblank[0])
    expected = ';'.join(f'"{h}"' for h in header)
    found = decode(data[starts[first]:ends[first]]).strip()
    if found != expected:
        found = found if len(found) <= 60 else found[:57] + '...'
        raise PrepareError(f"{where(path, first + 1)}: expected the header {expected}, found "
                           f"{found!r}; this is not the Book-Crossing dump's {name} (';'-"
                           f"separated, double-quoted fields): put the original file there")
    rec = nonblank[1:]                                                # records (0-based lines)
    if not len(rec):
        raise PrepareError(f"{path}: the file has a header but no records; {FIX_MISSING}")
    quote, semi = buf == 34, buf == 59
    sep = np.zeros(len(buf), bool)                                    # '";"' starts here
    sep[:-2] = quote[:-2] & semi[1:-1] & quote[2:]
    s, e = starts[rec], ends[rec]
    n_sep = _counts(sep, s, np.maximum(e - 2, s))
    well = (e - s >= 2) & (buf[s] == 34) & (buf[np.maximum(e - 1, 0)] == 34) & (n_sep == n - 1)
    simple = well & (_counts(quote, s, e) == 2 * n) & (_counts(semi, s, e) == n - 1)
    lineno = rec.astype(np.int64) + 1
    if not well.any():
        raise PrepareError(f"{where(path, int(lineno[0]))}: no line of the file has the "
                           f"dump's {n} ';'-separated, double-quoted fields; this is not "
                           f"the Book-Crossing dump's {name}: put the original file there")
    # Simple records: remove the quotes, let the C parser split on ';'.
    keep_lines = np.zeros(len(starts), bool)
    keep_lines[rec[simple]] = True
    line_of_byte = np.repeat(keep_lines, ends - starts + 1)
    body = buf[line_of_byte].tobytes().translate(None, b'"')
    frames = []
    if body:
        df = pd.read_csv(io.StringIO(decode(body)), sep=';', header=None, names=list(header),
                         dtype=str, quoting=csv.QUOTE_NONE, na_filter=False, engine='c',
                         skip_blank_lines=False)
        frames.append(df.assign(_line=lineno[simple]))
    # Other well-formed records: fields hold quotes or ';' -- split on '";"' in Python.
    other = np.flatnonzero(well & ~simple)
    if len(other):
        rows = [decode(data[s[k] + 1:e[k] - 1]).split('";"') for k in other]
        frames.append(pd.DataFrame(rows, columns=list(header)).assign(_line=lineno[other]))
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1:
        df = df.sort_values('_line', kind='stable', ignore_index=True)
    columns = {h: df[h].astype(object) for h in header}
    return Table(path, columns, df['_line'].to_numpy(np.int64), lineno[~well].tolist())


def _skip(table, bad):
    """Drop the records where ``bad`` (bool array) is set, counting them as bad lines."""
    if bad.any():
        table.bad_lines = sorted(table.bad_lines + table.lines[bad].tolist())
        keep = ~bad
        table.columns = {k: v[keep].reset_index(drop=True) for k, v in table.columns.items()}
        table.lines = table.lines[keep]
    return table


def _skip_repeats(table, key):
    """Skip later records whose ``key`` column repeats an earlier one (file order)."""
    return _skip(table, table.columns[key].duplicated(keep='first').to_numpy())


def _clean_name(s):
    """Authors and publishers: HTML entities (``&amp;``) decoded, whitespace stripped."""
    s = s.str.strip()
    has_entity = s.str.contains('&', regex=False).to_numpy()
    if has_entity.any():
        s = s.copy()
        s[has_entity] = [html.unescape(v).strip() for v in s[has_entity]]
    return s


@dataclass
class Users:
    path: object
    ids: np.ndarray          # int64, file order
    location: pd.Series      # str
    age: pd.Series           # str as in the file ('NULL' for none)
    lines: np.ndarray
    bad_lines: list


def read_users(path):
    t = read_table(path)
    uid = t.columns['User-ID'].str.strip()
    _skip(t, ~uid.str.fullmatch(r'\d{1,18}').to_numpy())
    _skip_repeats(t, 'User-ID')
    ids = t.columns['User-ID'].str.strip().astype(np.int64).to_numpy()
    return Users(path, ids, t.columns['Location'], t.columns['Age'].str.strip(), t.lines,
                 t.bad_lines)


@dataclass
class Books:
    path: object
    isbn: np.ndarray         # object (str), file order
    author: pd.Series        # str, entities decoded, stripped
    year: pd.Series          # str as in the file
    publisher: pd.Series     # str, entities decoded, stripped
    lines: np.ndarray
    bad_lines: list


def read_books(path):
    t = read_table(path)
    _skip(t, (t.columns['ISBN'].str.strip() == '').to_numpy())
    _skip_repeats(t, 'ISBN')
    c = t.columns
    return Books(path, c['ISBN'].to_numpy(object), _clean_name(c['Book-Author']),
                 c['Year-Of-Publication'].str.strip(), _clean_name(c['Publisher']), t.lines,
                 t.bad_lines)


@dataclass
class Ratings:
    path: object
    user: np.ndarray         # int64, file order
    isbn: np.ndarray         # object (str)
    rating: np.ndarray       # int64 0..10
    lines: np.ndarray
    bad_lines: list

    def __len__(self):
        return len(self.user)


def read_ratings(path):
    t = read_table(path)
    c = t.columns
    values = {}
    for col in ('User-ID', 'Book-Rating'):
        v = pd.to_numeric(c[col], errors='coerce').to_numpy(np.float64)   # vectorised
        bad = np.flatnonzero(~((v >= 0) & (v < 2 ** 53) & (v == np.floor(v))))
        if bad.size:
            k = int(bad[0])
            raise PrepareError(f"{where(path, int(t.lines[k]))}: {col} {c[col][k]!r} is not "
                               f"a non-negative integer; fix or delete the line (or put the "
                               f"original dump file there)")
        values[col] = v.astype(np.int64)
    out = np.flatnonzero(values['Book-Rating'] > MAX_RATING)
    if out.size:
        k = int(out[0])
        raise PrepareError(f"{where(path, int(t.lines[k]))}: Book-Rating "
                           f"{values['Book-Rating'][k]} is outside 0..{MAX_RATING}; fix or "
                           f"delete the line")
    return Ratings(path, values['User-ID'], c['ISBN'].to_numpy(object),
                   values['Book-Rating'], t.lines, t.bad_lines)
