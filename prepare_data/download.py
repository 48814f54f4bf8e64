"""Download the raw MovieLens-1M files (``prepareDataset.py --download``).

Sources (each overridable by argument or environment variable, e.g. to test against
a local server):

- ``ml-1m.zip`` from GroupLens (``MAMO_ML1M_URL``): ratings.dat, users.dat, movies.dat;
- ``movies_extrainfos.dat`` from the MeLU repository (``MAMO_EXTRAINFOS_BASE``);
- ``List_genre.txt``, ``List_director.txt`` from the MAMO reference repository
  (``MAMO_LISTS_BASE``); if they cannot be fetched they are derived from
  movies_extrainfos.dat, and the output says so.

Each transfer goes to ``<name>.part`` and is renamed only when complete; an interrupted
transfer is resumed with an HTTP Range request.  Extracted files are verified (row
counts) before they are renamed into place.
"""
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from http.client import HTTPException
from pathlib import Path

from tqdm import tqdm

from .errors import PrepareError
from .vocab import PANDAS_NA_STRINGS

ML1M_URL = 'https://files.grouplens.org/datasets/movielens/ml-1m.zip'
EXTRAINFOS_BASE = 'https://raw.githubusercontent.com/hoyeoplee/MeLU/master/movielens/ml-1m/'
LISTS_BASE = 'https://raw.githubusercontent.com/dongmanqing/Code-for-MAMO/master/data_raw/ml-1m/'
ZIP_MEMBERS = ('ratings.dat', 'users.dat', 'movies.dat')
EXPECTED_ROWS = {'ratings.dat': 1000209, 'users.dat': 6040}
_CHUNK = 1 << 16


class _Retry(Exception):
    """A transient failure: retry (and resume) the transfer."""


def _transfer(url, part, timeout, progress):
    """One attempt: append to (or restart) ``part``; return when the body is complete."""
    have = part.stat().st_size if part.exists() else 0
    headers = {'User-Agent': 'mamo-mindspore-prepare/1', 'Accept-Encoding': 'identity'}
    if have:
        headers['Range'] = f'bytes={have}-'
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                      timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:               # the range is past the end: start over
            part.unlink()
            raise _Retry('HTTP 416') from None
        if e.code in (408, 429) or e.code >= 500:
            raise _Retry(f'HTTP {e.code}') from None
        raise PrepareError(f"{url}: HTTP {e.code} {e.reason}; check the address (or its "
                           f"MAMO_* environment variable) and run again") from None
    except (urllib.error.URLError, OSError, HTTPException) as e:
        raise _Retry(str(getattr(e, 'reason', e))) from None
    with resp:
        if have and resp.status != 206:          # the server ignored Range: start over
            have = 0
        length = resp.headers.get('Content-Length')
        total = have + int(length) if length is not None else None
        with open(part, 'ab' if have else 'wb') as f, \
                tqdm(total=total, initial=have, unit='B', unit_scale=True,
                     desc=Path(part).name[:-5], disable=not progress, leave=False) as bar:
            try:
                while True:
                    chunk = resp.read(_CHUNK)
                    if not chunk:
                        break
                    f.write(chunk)
                    bar.update(len(chunk))
            except (OSError, HTTPException) as e:
                raise _Retry(f'transfer interrupted ({e.__class__.__name__})') from None
    if total is not None and part.stat().st_size != total:
        raise _Retry(f'got {part.stat().st_size} of {total} bytes')


def fetch(url, dest, retries=4, backoff=1.0, timeout=60, progress=True, log=print):
    """Download ``url`` to ``dest`` via ``dest.part``, resuming and retrying."""
    dest = Path(dest)
    part = dest.with_name(dest.name + '.part')
    last = None
    for attempt in range(retries + 1):
        try:
            _transfer(url, part, timeout, progress)
            os.replace(part, dest)
            return dest
        except _Retry as e:
            last = e
            if attempt < retries:
                log(f"{dest.name}: {e}; retrying ({attempt + 1}/{retries})")
                time.sleep(backoff * 2 ** attempt)
    raise PrepareError(f"{url}: download failed after {retries + 1} attempts ({last}); "
                       f"check the network and run again (it resumes from {part})")


def _count_rows(path):
    with open(path, 'rb') as f:
        return sum(1 for line in f if line.strip())


def unpack_ml1m(zip_path, raw_dir, expected_rows=EXPECTED_ROWS):
    """Extract ZIP_MEMBERS from GroupLens' archive into raw_dir, verified."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise PrepareError(f"{zip_path}: not a readable zip archive; delete it and run "
                           f"`python prepareDataset.py --download` again") from None
    with archive:
        found = {Path(n).name: n for n in archive.namelist() if not n.endswith('/')}
        missing = [m for m in ZIP_MEMBERS if m not in found]
        if missing:
            raise PrepareError(f"{zip_path}: the archive lacks {', '.join(missing)}; it is not "
                               f"GroupLens' ml-1m.zip: delete it and download again")
        parts = []
        try:
            for name in ZIP_MEMBERS:
                part = Path(raw_dir) / (name + '.part')
                with archive.open(found[name]) as src, open(part, 'wb') as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
                parts.append(part)
                rows = expected_rows.get(name)
                if rows is not None and _count_rows(part) != rows:
                    raise PrepareError(f"{zip_path}: {name} has {_count_rows(part)} rows, "
                                       f"expected {rows}; delete the archive and download "
                                       f"again")
            for part in parts:
                os.replace(part, part.with_suffix(''))
        except zipfile.BadZipFile:
            raise PrepareError(f"{zip_path}: the archive is corrupt; delete it and download "
                               f"again") from None
        finally:
            for part in parts:
                if part.exists():
                    part.unlink()


def derive_lists(extrainfos_path):
    """Genre and director lists from movies_extrainfos.dat, in order of first appearance.

    The sets match the reference's lists, the order need not: feature columns would
    be permuted relative to the reference's.
    """
    genres, directors = {}, {}
    with open(extrainfos_path, encoding='utf-8') as f:
        for line in f:
            fields = line.rstrip('\n').split('::')
            if len(fields) != 11:
                continue
            na = lambda v: 'nan' if v in PANDAS_NA_STRINGS else v
            for g in na(fields[5]).split(', '):
                genres.setdefault(g, None)
            for d in na(fields[6]).split(', '):
                directors.setdefault(re.sub(r'\([^()]*\)', '', d), None)
    return list(genres), list(directors)


def _write_list(path, entries):
    part = Path(f"{path}.part")
    with open(part, 'w', encoding='utf-8', newline='') as f:
        f.write(''.join(e + '\r\n' for e in entries))
    os.replace(part, path)


def download_movielens(raw_dir, ml1m_url=None, extrainfos_base=None, lists_base=None,
                       expected_rows=EXPECTED_ROWS, retries=4, backoff=1.0, timeout=60,
                       progress=True, log=print):
    """Fetch every raw file that raw_dir lacks; return {file: how it was obtained}."""
    env = os.environ.get
    ml1m_url = ml1m_url or env('MAMO_ML1M_URL', ML1M_URL)
    extrainfos_base = extrainfos_base or env('MAMO_EXTRAINFOS_BASE', EXTRAINFOS_BASE)
    lists_base = lists_base or env('MAMO_LISTS_BASE', LISTS_BASE)
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)
    get = dict(retries=retries, backoff=backoff, timeout=timeout, progress=progress, log=log)
    how = {}

    if all((raw / m).is_file() for m in ZIP_MEMBERS):
        how.update(dict.fromkeys(ZIP_MEMBERS, 'present'))
    else:
        zip_path = raw.parent / 'ml-1m.zip'
        if not zip_path.is_file():
            log(f"downloading {ml1m_url}")
            fetch(ml1m_url, zip_path, **get)
        unpack_ml1m(zip_path, raw, expected_rows)
        how.update(dict.fromkeys(ZIP_MEMBERS, f'unpacked from {zip_path}'))

    name = 'movies_extrainfos.dat'
    if (raw / name).is_file():
        how[name] = 'present'
    else:
        log(f"downloading {extrainfos_base}{name}")
        fetch(extrainfos_base + name, raw / name, **get)
        how[name] = 'downloaded'

    lists = ('List_genre.txt', 'List_director.txt')
    for name in lists:
        if (raw / name).is_file():
            how[name] = 'present'
            continue
        try:
            log(f"downloading {lists_base}{name}")
            fetch(lists_base + name, raw / name, **get)
            how[name] = 'downloaded'
        except PrepareError as e:
            log(f"warning: {e}")
    if any(name not in how for name in lists):
        derived = dict(zip(lists, derive_lists(raw / 'movies_extrainfos.dat')))
        for name in lists:
            if name not in how:
                _write_list(raw / name, derived[name])
                how[name] = 'derived from movies_extrainfos.dat'
                log(f"{name}: derived from movies_extrainfos.dat ({len(derived[name])} "
                    f"entries; order differs from the reference's list, so feature "
                    f"columns are permuted relative to the reference)")
    for name, source in how.items():
        log(f"{raw / name}: {source}")
    return how
