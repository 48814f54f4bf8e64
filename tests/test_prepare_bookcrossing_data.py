"""A tiny hand-written Book-Crossing dump for the tests (no tests here; expected results:
test_prepare_bookcrossing.py, worked out by hand).

BX-Users.csv (line: record -> fate):
  2 "30" germany 25 ok | 3 "7" ' Portugal ' 41 ok | 4 "12" NULL age | 5 "15" age 3 |
  6 "21" 'köln, nrw, ' no country | 7 "22" n/a | 8 malformed (4 fields) | 9 "9" portugal
  110 ok | 10 "50" age 111 | 11 blank | 12 malformed (id 'x1') | 13 repeat of "7" |
  14 "60" norway 5 ok | 15 "31" österreich 5 ok | 16 "40" canada 60 ok | 17 "41" españa 19 ok
BX-Books.csv (CRLF): B01 B02 B03 ok; B04 1499, B05 0, B06 2011 out of range; B07 2010 ok
  (unescaped quotes in the title); line 9 B08 a title holding '";"' and line 10 B09 cut
  short (malformed); B10 no author; B11 ok (an escaped quote); line 13 repeat of B01;
  B13 year 'abc'; C01..C18 ok (odd k: Bo Kim 2001 Dover; even k: Cy Ray 1999 Penguin;
  C15 Cy Ray 1999 Dover; C16 Élodie Roux 1987 Éditions Gallimard).
BX-Book-Ratings.csv: per-user blocks of "ISBN:rating" below, in file order; line 24 is
  malformed (4 fields).
"""
from pathlib import Path

BASE = ['B01', 'B02', 'B03', 'B07', 'B11'] + [f'C{k:02d}' for k in range(1, 15)]   # 19


def _base(rating):
    return ' '.join(f'{i}:{rating}' for i in BASE)


USERS = '\n'.join([
    '"User-ID";"Location";"Age"',
    '"30";"berlin, berlin, germany";"25"',
    '"7";"Porto, Porto,  Portugal ";"41"',
    '"12";"nyc, new york, usa";NULL',
    '"15";"austin, texas, usa";"3"',
    '"21";"köln, nrw, ";"30"',
    '"22";"n/a, n/a, n/a";"30"',
    '"44";"paris";"france";"33"',
    '"9";"lisboa, lisboa, portugal";"110"',
    '"50";"somewhere, usa";"111"',
    '',
    '"x1";"nowhere, usa";"20"',
    '"7";"duplicate, usa";"20"',
    '"60";"oslo, norway";"5"',
    '"31";"wien, wien, österreich";"5"',
    '"40";"Toronto; Ontario, Canada";"60"',
    '"41";"madrid, madrid, españa";"19"',
]) + '\n'

_U = '"u";"u";"u"'
BOOKS = '\r\n'.join([
    '"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";'
    '"Image-URL-M";"Image-URL-L"',
    f'"B01";"Zoë’s Book";"Zoë Adams";"1999";"Penguin";{_U}',
    f'"B02";"Title &amp; Two; Part 1";"Ann Lee";"2005";"Simon &amp; Schuster";{_U}',
    f'"B03";"three";"ann lee";"1500";"penguin";{_U}',
    f'"B04";"Old";"Bo Kim";"1499";"Dover";{_U}',
    f'"B05";"Zero";"Bo Kim";"0";"Dover";{_U}',
    f'"B06";"Future";"Bo Kim";"2011";"Dover";{_U}',
    f'"B07";"A "quoted" title";"Bo Kim";"2010";"Dover";{_U}',
    f'"B08";"Semi";"colon";"Cy Ray";"2001";"Dover";{_U}',
    '"B09";"Short";"Cy Ray";"2001"',
    f'"B10";"No author";"";"2001";"Dover";{_U}',
    f'"B11";"It\\"s";"Cy Ray";"2001";"Dover";{_U}',
    f'"B01";"Repeat";"X";"1990";"Y";{_U}',
    f'"B13";"Jahr";"Jürgen Groß";"abc";"Goldmann";{_U}',
] + [f'"C{k:02d}";"C book";"{"Bo Kim" if k % 2 else "Cy Ray"}";'
     f'"{2001 if k % 2 else 1999}";"{"Dover" if k % 2 else "Penguin"}";{_U}'
     for k in range(1, 15)] + [
    f'"C15";"C book";"Cy Ray";"1999";"Dover";{_U}',
    f'"C16";"C book";"Élodie Roux";"1987";"Éditions Gallimard";{_U}',
    f'"C17";"C book";"Bo Kim";"2001";"Dover";{_U}',
    f'"C18";"C book";"Bo Kim";"2001";"Dover";{_U}',
]) + '\r\n'

BLOCKS = [   # (user id, "ISBN:rating ...") in file order
    ('30', 'C15:6 B04:9 C14:2 C13:3 C12:4 C17:0 C11:5 C10:6 C09:7 C08:8 C07:9 C06:10 C05:1 '
           'C04:2 C03:3 C02:4 C01:5 B11:6 B07:7 B03:8 B02:9 B01:10'),
    (None, '"7";"C18";"8";"x"'),                                   # line 24: malformed
    ('7', 'B01:8 C17:0 B02:7 B08:9 B03:6 B07:5 B11:4 X99:3 C01:3 C02:2 C03:1 C04:10 C05:9 '
          'B10:2 C06:8 C07:7 C08:6 C09:5 C10:4 B13:8 C11:3 C12:2 C13:1 C14:10 C15:9 C16:8'),
    (None, ''),                                                    # line 51: blank
    ('41', 'C16:4 B01:1 B02:2 B03:3 B07:4 B11:5 C01:6 C02:7 C03:8 C04:9 C05:10 C06:1 C07:2 '
           'C08:3 C09:4 C10:5 C11:6 C12:7 C13:8 C14:9'),
    ('9', 'B01:9 B02:9 B03:9 B07:9 B11:9 C01:1 C02:2 C03:3 C04:4 C05:5'),
    ('12', _base(5) + ' C15:5'),
    ('9', 'C06:6 C07:7 C08:8 C09:9 C10:10 C11:1 C12:2 C13:3 C14:4 C15:5'),
    ('31', 'B05:3 ' + _base(10) + ' B06:4 C15:1'),
    ('40', 'X98:7 ' + _base(5) + ' C15:5'),
    ('60', _base(7) + ' C18:0'),
    ('15', 'B01:5'), ('21', 'B01:5'), ('22', 'B01:5'), ('50', 'B01:5'), ('44', 'B01:5'),
    ('99', 'B01:5'),
]


def _ratings():
    lines = ['"User-ID";"ISBN";"Book-Rating"']
    for user, text in BLOCKS:
        if user is None:
            lines.append(text)
            continue
        for token in text.split():
            isbn, rating = token.split(':')
            lines.append(f'"{user}";"{isbn}";"{rating}"')
    return '\n'.join(lines) + '\n'


RATINGS = _ratings()
TINY = {'BX-Users.csv': USERS, 'BX-Books.csv': BOOKS, 'BX-Book-Ratings.csv': RATINGS}


def write_tiny_bx(raw_dir, **replace):
    """Write the tiny dump (cp1252); ``replace={'BX-Users__csv': text or None}`` edits or
    omits files (``__`` stands for ``.`` and ``-`` is written ``_``)."""
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)
    files = dict(TINY)
    files.update({k.replace('__', '.').replace('_', '-'): v for k, v in replace.items()})
    for name, text in files.items():
        if text is not None:
            (raw / name).write_bytes(text.encode('cp1252'))
    return raw
