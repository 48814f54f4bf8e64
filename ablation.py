"""MAMO and its ablations over several seeds: one table of mean +- std per scenario.

    python ablation.py [--dataset movielens] [--data-dir DIR] [--epochs 3] [--seeds 1,2,3]
                       [--variants mamo,no_feature_memory,no_task_memory,neither]
                       [--set key=value ...] [--out FILE.json] [--plain]

Each variant is a configuration of ``mamorec.py`` (paper, Section 3.4): ``mamo`` (both
memories), ``no_feature_memory`` (``feature_memory=false``: theta_u <- phi_u),
``no_task_memory`` (``task_memory=false``: the memory layer starts from phi) and
``neither`` (a MeLU-like meta-learner). Every (variant, seed) trains for --epochs and is
tested after the last epoch; the table shows MAE and nDCG@3 per scenario as mean +- std
over seeds, plus the support-mean baseline. All numbers also go to --out as JSON.
"""
import argparse
import copy
import datetime
import os
import sys

import numpy as np

import configs
from mamorec import DATASETS, REPO_DIR, MAMRec, apply_overrides, configure_runtime, \
    load_data, validate_config
from run_files import write_json
from utils import SCENARIOS, ConfigError

VARIANTS = {
    'mamo': {},
    'no_feature_memory': {'feature_memory': False},
    'no_task_memory': {'task_memory': False},
    'neither': {'feature_memory': False, 'task_memory': False},
}
COLUMNS = SCENARIOS + ('all',)


def summarise(values):
    """'mean +- std' of finite values (population std; '-' if none)."""
    finite = [v for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return '-'
    return f'{np.mean(finite):.4f} ± {np.std(finite):.4f}'


def format_table(rows):
    """rows: (label, [metrics dict per seed]) -> Markdown table of MAE and nDCG@3."""
    head = ['variant'] + [f'{s} MAE' for s in COLUMNS] + [f'{s} nDCG@3' for s in COLUMNS]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for label, per_seed in rows:
        cells = [label]
        for key in ('mae', 'ndcg3'):
            cells += [summarise([m[s][key] for m in per_seed]) for s in COLUMNS]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run_variant(base_config, changes, seed, epochs, samples, sizes, dataset, local_update):
    """Train one (variant, seed) and test after the last epoch."""
    config = dict(base_config, **changes, seed=seed, n_epoch=epochs)
    rec = MAMRec(config, samples, sizes, dataset=dataset, local_update=local_update)
    losses = [rec.train_epoch(desc=f'seed {seed} epoch {e + 1}/{epochs}') for e in range(epochs)]
    metrics, baseline = rec.evaluate(desc=f'seed {seed} test')
    return {'seed': seed, 'train_loss': losses, 'metrics': metrics, 'baseline': baseline}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--dataset', default='movielens', choices=DATASETS)
    p.add_argument('--data-dir')
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--seeds', default='1,2,3')
    p.add_argument('--variants', default=','.join(VARIANTS))
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE')
    p.add_argument('--out', help='JSON file for all numbers (default: runs/ablation_<time>.json)')
    p.add_argument('--plain', action='store_true')
    args = p.parse_args(argv)
    args.data_dir = args.data_dir or os.path.join(REPO_DIR, 'data_processed', args.dataset)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from prepare_data import PrepareError
    try:
        variants = [v for v in args.variants.split(',') if v]
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise ConfigError(f'--variants: unknown {unknown}; known: {", ".join(VARIANTS)}')
        try:
            seeds = [int(s) for s in args.seeds.split(',') if s]
        except ValueError:
            raise ConfigError(f'--seeds {args.seeds}: expected integers like 1,2,3') from None
        base = dict(copy.deepcopy(configs.config_settings), **configs.dataset_settings[args.dataset])
        base = apply_overrides(base, args.set)
        validate_config(base)
        configure_runtime('CPU')
        samples, sizes = load_data(args.data_dir, args.dataset)
    except (ConfigError, PrepareError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    local_update = 'plain' if args.plain else 'fast'
    results = {'dataset': args.dataset, 'data_dir': os.path.abspath(args.data_dir),
               'epochs': args.epochs, 'seeds': seeds, 'config': base, 'variants': {}}
    for name in variants:
        results['variants'][name] = [
            run_variant(base, VARIANTS[name], seed, args.epochs, samples, sizes, args.dataset,
                        local_update) for seed in seeds]
    rows = [(name, [r['metrics'] for r in runs]) for name, runs in results['variants'].items()]
    first = next(iter(results['variants'].values()))
    rows.append(('support mean', [r['baseline'] for r in first]))
    table = format_table(rows)
    out = args.out or os.path.join(
        REPO_DIR, 'runs', f'ablation_{datetime.datetime.now():%Y%m%d-%H%M%S}.json')
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    results['table'] = table
    write_json(out, results)
    print(f'{args.dataset}, {args.epochs} epochs, seeds {seeds}: mean ± std over seeds, '
          f'test users after the last epoch')
    print(table)
    print(f'\nall numbers: {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
