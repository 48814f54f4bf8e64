"""Benchmark: one MAMO epoch (training + testing) on full-size synthetic ML-1M; prints JSON.

    python benchmarks/bench_epoch.py [--data-dir DIR] [--train-users N] [--test-users N]
                                     [--plain] [--test-batch B] [--no-cpu-tuning]

Prepares a full-size synthetic ML-1M (6,040 users) into --data-dir unless it is already
there (default: benchmarks/.data, git-ignored), builds MAMO with the default config, then
runs a warm-up on a few users (graph compilation), one training epoch and one test pass,
and reports seconds, milliseconds per user, peak RSS and the runtime settings in force.
--train-users / --test-users time a subset for a quick look. Not a test.
"""
import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def ensure_data(data_dir: Path):
    from prepare_data import prepare_movielens, write_synthetic_movielens
    if not (data_dir / 'out' / 'meta.json').exists():
        write_synthetic_movielens(data_dir / 'raw', n_users=6040, seed=0)
        prepare_movielens(data_dir / 'raw', data_dir / 'out', log=lambda *a, **k: None)
    return data_dir / 'out'


def peak_rss_mb() -> float:
    try:
        with open('/proc/self/status') as f:
            return next(int(l.split()[1]) for l in f if l.startswith('VmHWM:')) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data-dir', type=Path, default=REPO / 'benchmarks' / '.data')
    p.add_argument('--train-users', type=int, default=0, help='time only the first N (0: all)')
    p.add_argument('--test-users', type=int, default=0, help='time only the first N (0: all)')
    p.add_argument('--plain', action='store_true', help='the plain (PyNative) local update')
    p.add_argument('--test-batch', type=int, help='config test_batch (default: configs.py)')
    p.add_argument('--no-cpu-tuning', action='store_true')
    args = p.parse_args(argv)

    from mamorec import MAMRec, configure_runtime   # first: it quietens MindSpore's log
    import mindspore as ms
    from configs import config_settings
    from prepare_data import load_feature_sizes, load_samples

    data = ensure_data(args.data_dir)
    configure_runtime('CPU', cpu_tuning=not args.no_cpu_tuning)
    samples = load_samples(data)
    config = dict(config_settings)
    if args.test_batch:
        config['test_batch'] = args.test_batch
    rec = MAMRec(config, samples, load_feature_sizes(data),
                 local_update='plain' if args.plain else 'fast')
    train_users, test_users = rec.train_users, rec.test_users

    t0 = time.perf_counter()        # warm-up: compile the graphs on a few users
    rec.train_users, rec.test_users = train_users[:3], test_users[:3]
    rec.train_epoch(desc='warm-up train')
    rec.predict_test_users(desc='warm-up test')
    warmup = time.perf_counter() - t0

    rec.train_users = train_users[:args.train_users] if args.train_users else train_users
    rec.test_users = test_users[:args.test_users] if args.test_users else test_users
    t0 = time.perf_counter()
    rec.train_epoch()
    t1 = time.perf_counter()
    rec.predict_test_users()
    t2 = time.perf_counter()
    n_train, n_test = len(rec.train_users), len(rec.test_users)
    print(json.dumps({
        'local_update': rec.local_update, 'test_batch': config['test_batch'],
        'train_users': n_train, 'test_users': n_test,
        'warmup_s': round(warmup, 2),
        'train_s': round(t1 - t0, 2), 'test_s': round(t2 - t1, 2),
        'epoch_s': round(t2 - t0, 2),
        'ms_per_train_user': round(1000 * (t1 - t0) / max(n_train, 1), 2),
        'ms_per_test_user': round(1000 * (t2 - t1) / max(n_test, 1), 2),
        'full_epoch_estimate_s': round((t1 - t0) / max(n_train, 1) * len(train_users)
                                       + (t2 - t1) / max(n_test, 1) * len(test_users), 1),
        'peak_rss_mb': round(peak_rss_mb(), 1),
        'settings': {'mindspore': ms.__version__, 'cpu_tuning': not args.no_cpu_tuning,
                     'launch_blocking': not args.no_cpu_tuning,
                     'kernel_threads': 1 if not args.no_cpu_tuning else 'default',
                     'dispatch_threads': 1 if not args.no_cpu_tuning else 'default',
                     'cpu_affinity': sorted(os.sched_getaffinity(0))
                     if hasattr(os, 'sched_getaffinity') else None,
                     'cpu_count': os.cpu_count()},
    }))


if __name__ == '__main__':
    main()
