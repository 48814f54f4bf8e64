"""Benchmark: prepare a full-size synthetic ML-1M; print JSON (not a test).

    python benchmarks/bench_prepare.py [--raw-dir DIR] [--users 6040] [--seed 0]

Generates the synthetic raw folder (or reuses it if --raw-dir already holds the same
synthetic data), then times ``prepare_movielens`` with ``force=True`` into a fresh
temporary folder, in a child process so that its peak memory is measured alone: the
child's VmHWM (Linux; it starts afresh at exec, unlike ``ru_maxrss``, which inherits the
forking parent's size), else ``ru_maxrss``.  Both include the interpreter and imports.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from prepare_data import load_samples, prepare_movielens, write_synthetic_movielens  # noqa: E402


def folder_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob('*') if p.is_file())


def child(raw, out):
    """Run in a fresh process: prepare raw -> out, print wall time and stats as JSON."""
    t = time.perf_counter()
    stats = prepare_movielens(raw, out, force=True, log=lambda *a: None)
    wall = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open('/proc/self/status') as f:
            peak_kb = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
    except (OSError, StopIteration):
        pass
    print(json.dumps({'wall_s': wall, 'peak_kb': peak_kb, 'stats': stats}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--raw-dir', type=Path, help='synthetic raw folder (default: a temp one)')
    p.add_argument('--users', type=int, default=6040)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        raw = args.raw_dir or Path(tmp) / 'raw'
        t = time.perf_counter()
        info = write_synthetic_movielens(raw, n_users=args.users, seed=args.seed)
        generate_s = time.perf_counter() - t
        rss_after_generate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = Path(tmp) / 'out'
        child = subprocess.run([sys.executable, __file__, '--child', str(raw), str(out)],
                               check=True, capture_output=True, text=True)
        prepared = json.loads(child.stdout)
        stats = prepared['stats']
        t = time.perf_counter()
        samples = load_samples(out)
        load_s = time.perf_counter() - t
        result = {
            'users': args.users, 'ratings': info['n_ratings'],
            'generate_s': round(generate_s, 2), 'generate_reused': info['reused'],
            'prepare_wall_s': round(prepared['wall_s'], 2),
            'prepare_peak_rss_mb': round(prepared['peak_kb'] / 1024, 1),
            'generate_peak_rss_mb': round(rss_after_generate / 1024, 1),
            'load_samples_s': round(load_s, 3),
            'output_mb': round(folder_size(out) / 2 ** 20, 2),
            'output_files': {p.name: round(p.stat().st_size / 2 ** 20, 2)
                             for p in sorted(out.iterdir())},
            'raw_mb': round(folder_size(raw) / 2 ** 20, 2),
            'user_samples': len(samples), 'cpu_count': os.cpu_count(),
            'stats': {k: stats[k] for k in ('split_time', 'warm_users', 'cold_users',
                                            'warm_items', 'cold_items', 'users_dropped')},
        }
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    if sys.argv[1:2] == ['--child']:
        child(*sys.argv[2:4])
    else:
        main()
