"""A tiny hand-written ML-1M raw folder and helpers for the data-preparation tests.

The expected outputs of this folder, worked out by hand, are in test_prepare_pipeline.py.
Timestamps are B + offset seconds (B = 2001-09-09 01:46:40 UTC): user 10 rates at
0..200, user 5 at 50..70, user 7 in tied pairs at 100..190, user 2 ten times at 1000
(tied) and then at 1010..1100.
"""
import os
from pathlib import Path

B = 1_000_000_000


def _ratings():
    lines = []
    r10 = [1, 2, 3, 4, 5] * 4 + [1]
    items10 = [1] * 6 + [3] * 6 + [4] * 4 + [5] * 4 + [24]
    for k in reversed(range(21)):                     # user 10: newest first in the file
        lines.append(f"10::{items10[k]}::{r10[k]}::{B + 10 * k}")
    for item, t in ((7, 50), (1, 60), (2, 70)):       # user 5: 3 ratings, dropped
        lines.append(f"5::{item}::3::{B + t}")
    r2 = [5, 4, 3, 2, 1, 5, 4, 3, 2, 1] + [4] * 5 + [2] * 5
    items2 = [2] * 10 + [3] * 5 + [6] * 5
    for k in range(20):                               # user 2: ten tied, then ten later
        t = 1000 if k < 10 else 1000 + 10 * (k - 9)
        lines.append(f"2::{items2[k]}::{r2[k]}::{B + t}")
    r7 = [5, 1, 4, 2, 3, 3, 1, 5, 2, 4] * 2
    items7 = [1] * 5 + [25] + [4] * 4 + [5] * 10
    for j in reversed(range(10)):                     # user 7: tied pairs, newest pair first
        for k in (2 * j, 2 * j + 1):                  # ... each pair in time-tie order
            lines.append(f"7::{items7[k]}::{r7[k]}::{B + 100 + 10 * j}")
    return '\n'.join(lines) + '\n'


TINY = {
    'ratings.dat': _ratings(),
    'users.dat': ("2::M::1::0::11111\n5::F::35::4::22222\n7::F::56::20::33333\n"
                  "10::M::25::12::44444\n11::F::18::7::55555\n"),
    'movies.dat': ''.join(f"{i}::Movie {i} (1995)::Drama\n"
                          for i in (1, 2, 3, 4, 5, 6, 7, 9, 24, 25)),
    'movies_extrainfos.dat': '\r\n'.join([
        "1::A::1995::PG::1 Jan 1995::Drama::Ann Lee::w::a::p::N/A",
        "2::B::1990::R::N/A::Comedy, Drama::Bo Kim, Ann Lee(co-director)::w::a::p::N/A",
        "3::C::1995::G::N/A::N/A::Bo Kim::w::a::p::N/A",
        "9::I::1980::NC-17::N/A::Comedy::Bo Kim::w::a::p::N/A",
        "4::D::2000::PG-13::N/A::Comedy::N/A::w::a::p::N/A",
        "5::E::1990::UNRATED::N/A::Drama::Ann Lee::w::a::p::N/A",
        "6::F::1980::R::N/A::Drama, Comedy::Ann Lee, Bo Kim::w::a::p::N/A",
        "24::X::2000::PG::N/A::Drama::Bo Kim::w::a::p::N/A"]) + '\r\n',
    'List_genre.txt': 'Drama\r\nComedy\r\nnan\r\n',
    'List_director.txt': 'Ann Lee\r\nBo Kim\r\nnan\r\n',
}


def write_tiny(raw_dir, **replace):
    """Write the tiny folder; ``replace={'name': text or None}`` edits or omits files."""
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)
    files = dict(TINY)
    files.update({k.replace('__', '.'): v for k, v in replace.items()})
    for name, text in files.items():
        if text is not None:
            with open(raw / name, 'w', encoding='utf-8', newline='') as f:
                f.write(text)
    return raw


def replace_line(text, lineno, new):
    """``text`` with its 1-based line ``lineno`` replaced (line ends kept)."""
    lines = text.splitlines(keepends=True)
    end = lines[lineno - 1][len(lines[lineno - 1].rstrip('\r\n')):]
    lines[lineno - 1] = new + end
    return ''.join(lines)


def snapshot(folder):
    """{relative path: bytes} of every file under folder (to prove it is untouched)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob('*')) if p.is_file()}


def leftovers(parent):
    """Temporary folders of the preparation left in parent."""
    return [n for n in os.listdir(parent) if '.tmp-' in n or '.old-' in n]
