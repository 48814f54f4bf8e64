"""The downloader against a local HTTP server on 127.0.0.1 (no network needed)."""
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prep_helpers import TINY
from prepare_data import PrepareError
from prepare_data.download import download_movielens, fetch

ROWS = {'ratings.dat': 64, 'users.dat': 5}


def make_zip(members=('ratings.dat', 'users.dat', 'movies.dat')):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('ml-1m/', '')
        for name in members:
            z.writestr(f'ml-1m/{name}', TINY[name])
        z.writestr('ml-1m/README', 'readme')
    return buf.getvalue()


class Server:
    """Serves ``files`` {path: bytes}; honours Range; can cut the first transfers short."""

    def __init__(self):
        self.files, self.requests, self.truncate = {}, [], {}
        self.ignore_range = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append((self.path, self.headers.get('Range')))
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get('Range')
                if rng and not outer.ignore_range:
                    start = int(rng.split('=')[1].rstrip('-'))
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header('Content-Range', f'bytes {start}-{len(body) - 1}/{len(body)}')
                else:
                    self.send_response(200)
                self.send_header('Content-Length', str(len(body) - start))
                self.end_headers()
                cut = outer.truncate.get(self.path, 0)
                if cut:                              # send part of it, then drop the line
                    outer.truncate[self.path] -= 1
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    s.files = {'/ml-1m.zip': make_zip(),
               '/melu/movies_extrainfos.dat': TINY['movies_extrainfos.dat'].encode(),
               '/mamo/List_genre.txt': TINY['List_genre.txt'].encode(),
               '/mamo/List_director.txt': TINY['List_director.txt'].encode()}
    yield s
    s.close()


def download(server, raw, **kw):
    messages = []
    how = download_movielens(raw, ml1m_url=server.url + '/ml-1m.zip',
                             extrainfos_base=server.url + '/melu/',
                             lists_base=server.url + '/mamo/', expected_rows=ROWS,
                             backoff=0, progress=False, log=messages.append, **kw)
    return how, messages


def test_download_fetches_unpacks_and_verifies(server, tmp_path):
    raw = tmp_path / 'data_raw' / 'ml-1m'
    how, _ = download(server, raw)
    for name, text in TINY.items():
        assert (raw / name).read_bytes() == text.encode(), name
    assert how['ratings.dat'].startswith('unpacked') and how['List_genre.txt'] == 'downloaded'
    assert not list(tmp_path.rglob('*.part'))
    # a second run finds everything present and downloads nothing
    n = len(server.requests)
    how, _ = download(server, raw)
    assert set(how.values()) == {'present'} and len(server.requests) == n


def test_interrupted_transfer_is_resumed_with_range(server, tmp_path):
    server.truncate['/melu/movies_extrainfos.dat'] = 1
    raw = tmp_path / 'raw'
    _, messages = download(server, raw)
    body = server.files['/melu/movies_extrainfos.dat']
    assert (raw / 'movies_extrainfos.dat').read_bytes() == body
    ranges = [r for p, r in server.requests if p == '/melu/movies_extrainfos.dat']
    assert ranges == [None, f'bytes={len(body) // 2}-']
    assert any('retrying' in m for m in messages)


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    server.truncate['/ml-1m.zip'] = 1
    server.ignore_range = True
    fetch(server.url + '/ml-1m.zip', tmp_path / 'z.zip', backoff=0, progress=False,
          log=lambda *a: None)
    assert (tmp_path / 'z.zip').read_bytes() == server.files['/ml-1m.zip']


def test_zip_without_expected_files(server, tmp_path):
    server.files['/ml-1m.zip'] = make_zip(members=('ratings.dat', 'movies.dat'))
    raw = tmp_path / 'raw'
    with pytest.raises(PrepareError) as e:
        download(server, raw)
    assert 'ml-1m.zip: the archive lacks users.dat' in str(e.value)
    assert 'delete it' in str(e.value)
    assert not list(raw.iterdir())                      # nothing half-extracted


def test_row_count_mismatch_is_refused(server, tmp_path):
    raw = tmp_path / 'raw'
    with pytest.raises(PrepareError) as e:
        download_movielens(raw, ml1m_url=server.url + '/ml-1m.zip',
                           extrainfos_base=server.url + '/melu/', expected_rows={
                               'ratings.dat': 1000209, 'users.dat': 6040},
                           backoff=0, progress=False, log=lambda *a: None)
    assert 'ratings.dat has 64 rows, expected 1000209' in str(e.value)
    assert not list(raw.iterdir())


def test_not_a_zip(server, tmp_path):
    server.files['/ml-1m.zip'] = b'<html>not found</html>'
    with pytest.raises(PrepareError, match='not a readable zip archive'):
        download(server, tmp_path / 'raw')


def test_http_404_is_not_retried(server, tmp_path):
    del server.files['/ml-1m.zip']
    with pytest.raises(PrepareError, match='HTTP 404'):
        download(server, tmp_path / 'raw', retries=3)
    assert len(server.requests) == 1


def test_lists_derived_when_absent(server, tmp_path):
    del server.files['/mamo/List_genre.txt'], server.files['/mamo/List_director.txt']
    raw = tmp_path / 'raw'
    how, messages = download(server, raw)
    assert how['List_genre.txt'] == how['List_director.txt'] == \
        'derived from movies_extrainfos.dat'
    assert any('derived from movies_extrainfos.dat' in m for m in messages)
    # same entries as the hand-made lists (order of first appearance in the file)
    assert (raw / 'List_genre.txt').read_text().split('\n') == ['Drama', 'Comedy', 'nan', '']
    assert sorted((raw / 'List_director.txt').read_text().split()) == sorted(
        ['Ann', 'Lee', 'Bo', 'Kim', 'nan'])


def test_env_var_overrides_address(server, tmp_path, monkeypatch):
    monkeypatch.setenv('MAMO_ML1M_URL', server.url + '/ml-1m.zip')
    monkeypatch.setenv('MAMO_EXTRAINFOS_BASE', server.url + '/melu/')
    monkeypatch.setenv('MAMO_LISTS_BASE', server.url + '/mamo/')
    download_movielens(tmp_path / 'raw', expected_rows=ROWS, progress=False,
                       log=lambda *a: None)
    assert (tmp_path / 'raw' / 'users.dat').is_file()


def test_unreachable_server_gives_up_with_resume_hint(tmp_path):
    with pytest.raises(PrepareError) as e:
        fetch('http://127.0.0.1:9/none', tmp_path / 'f', retries=1, backoff=0,
              progress=False, log=lambda *a: None)
    assert 'download failed after 2 attempts' in str(e.value)
