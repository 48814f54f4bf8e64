"""Prepare MovieLens-1M or Book-Crossing for MAMO.

    python prepareDataset.py                       # data_raw/ml-1m -> data_processed/movielens
    python prepareDataset.py --download            # fetch the raw files first, then prepare
    python prepareDataset.py --synthetic --users 300 --seed 0   # offline demo data, then prepare

Book-Crossing (data_raw/book_crossing -> data_processed/bookcrossing; no --download):

    python prepareDataset.py --dataset bookcrossing
    python prepareDataset.py --dataset bookcrossing --synthetic --users 300 --seed 0 \\
        --raw-dir data_raw/synthetic_bookcrossing --out-dir data_processed/bookcrossing_synthetic

An output that is up to date with its inputs is reused; --force rebuilds it.  Input
problems are reported as one line, ``error: ...``, with exit status 2.
"""
import argparse
import sys
from pathlib import Path

from prepare_data import (PrepareError, prepare_bookcrossing, prepare_movielens,
                          write_synthetic_bookcrossing, write_synthetic_movielens)

ROOT = Path(__file__).resolve().parent
DEFAULT_RAW = ROOT / 'data_raw' / 'ml-1m'
DEFAULT_OUT = ROOT / 'data_processed' / 'movielens'
DEFAULT_RAW_BX = ROOT / 'data_raw' / 'book_crossing'
DEFAULT_OUT_BX = ROOT / 'data_processed' / 'bookcrossing'
BX_NO_DOWNLOAD = ("--download: the Book-Crossing dump can no longer be downloaded (its "
                  "address is gone); obtain BX-Users.csv, BX-Books.csv and "
                  "BX-Book-Ratings.csv yourself and put them in data_raw/book_crossing/, "
                  "or use --synthetic for demo data")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', choices=('movielens', 'bookcrossing'), default='movielens',
                   help='which dataset to prepare (default: movielens)')
    p.add_argument('--raw-dir', type=Path, default=None,
                   help='raw files (default: data_raw/ml-1m, or data_raw/book_crossing '
                        'for --dataset bookcrossing, in the repository)')
    p.add_argument('--out-dir', type=Path, default=None,
                   help='prepared output (default: data_processed/movielens or '
                        'data_processed/bookcrossing)')
    p.add_argument('--force', action='store_true', help='rebuild even if up to date')
    source = p.add_mutually_exclusive_group()
    source.add_argument('--download', action='store_true',
                        help='download the missing raw files into --raw-dir first')
    source.add_argument('--synthetic', action='store_true',
                        help='write synthetic raw files (ML-1M or Book-Crossing shaped) '
                             'into --raw-dir first')
    p.add_argument('--users', type=int, default=300,
                   help='--synthetic: number of users (6040 = full size; default 300)')
    p.add_argument('--seed', type=int, default=0, help='--synthetic: random seed (default 0)')
    args = p.parse_args(argv)
    bx = args.dataset == 'bookcrossing'
    if args.raw_dir is None:
        args.raw_dir = DEFAULT_RAW_BX if bx else DEFAULT_RAW
    if args.out_dir is None:
        args.out_dir = DEFAULT_OUT_BX if bx else DEFAULT_OUT
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.dataset == 'bookcrossing':
            return _main_bookcrossing(args)
        if args.synthetic:
            info = write_synthetic_movielens(args.raw_dir, n_users=args.users, seed=args.seed)
            state = 'already present' if info['reused'] else 'written'
            print(f"synthetic ML-1M ({info['n_users']} users, seed {info['seed']}, "
                  f"{info['n_ratings']} ratings) {state} in {args.raw_dir}")
        if args.download:
            from prepare_data.download import download_movielens
            download_movielens(args.raw_dir)
        prepare_movielens(args.raw_dir, args.out_dir, force=args.force)
    except PrepareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was changed", file=sys.stderr)
        return 130
    return 0


def _main_bookcrossing(args):
    if args.download:
        raise PrepareError(BX_NO_DOWNLOAD)
    if args.synthetic:
        info = write_synthetic_bookcrossing(args.raw_dir, n_users=args.users, seed=args.seed)
        state = 'already present' if info['reused'] else 'written'
        print(f"synthetic Book-Crossing ({info['n_users']} users, seed {info['seed']}, "
              f"{info['n_rating_lines']} rating lines) {state} in {args.raw_dir}")
    prepare_bookcrossing(args.raw_dir, args.out_dir, force=args.force)
    return 0


if __name__ == '__main__':
    sys.exit(main())
