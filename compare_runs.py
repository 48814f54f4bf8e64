"""Print one table comparing finished runs, from their ``results.json``.

    python compare_runs.py RUN_DIR [RUN_DIR ...] [--epoch K] [--keys meta_batch,seed]

One row per run: the config values named by --keys, the epoch's mean training query
loss, and MAE / nDCG@3 per scenario (W-W, W-C, C-W, C-C, all) for MAMO, then the same
for the support-mean baseline of the first run. --epoch picks the epoch (default: each
run's last).
"""
import argparse
import json
import os
import sys

SCENARIOS = ('W-W', 'W-C', 'C-W', 'C-C', 'all')


def load_epoch(run_dir: str, epoch: int = 0):
    """(config, the chosen epoch's entry) of a run folder."""
    path = os.path.join(run_dir, 'results.json')
    try:
        with open(path, encoding='utf-8') as f:
            results = json.load(f)
    except (OSError, ValueError) as err:
        raise SystemExit(f'error: {path}: cannot read results ({err})')
    epochs = {e['epoch']: e for e in results['epochs']}
    if not epochs:
        raise SystemExit(f'error: {path}: no completed epoch')
    chosen = epoch or max(epochs)
    if chosen not in epochs:
        raise SystemExit(f'error: {path}: no epoch {chosen} (has {sorted(epochs)})')
    return results['config'], epochs[chosen]


def _fmt(value):
    return '     -' if value is None else f'{value:6.4f}'


def table(rows, keys):
    """Markdown table: one row per (label, config, epoch entry, metrics)."""
    head = ['run'] + list(keys) + ['epoch', 'loss'] + \
        [f'{s} MAE' for s in SCENARIOS] + [f'{s} nDCG@3' for s in SCENARIOS]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for label, config, entry, metrics in rows:
        cells = [label] + [str(config.get(k, '')) for k in keys] + [
            str(entry.get('epoch', '')), _fmt(entry.get('train_loss'))]
        cells += [_fmt(metrics[s]['mae']) for s in SCENARIOS]
        cells += [_fmt(metrics[s]['ndcg3']) for s in SCENARIOS]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('runs', nargs='+')
    p.add_argument('--epoch', type=int, default=0)
    p.add_argument('--keys', default='meta_batch', help='config keys to show, comma-separated')
    args = p.parse_args(argv)
    keys = [k for k in args.keys.split(',') if k]
    rows = []
    for run in args.runs:
        config, entry = load_epoch(run, args.epoch)
        rows.append((os.path.basename(os.path.normpath(run)), config, entry, entry['metrics']))
    config, entry = load_epoch(args.runs[0], args.epoch)
    rows.append(('support mean', {}, {'epoch': entry['epoch']},
                 entry['baseline']['support_mean']))
    print(table(rows, keys))
    return 0


if __name__ == '__main__':
    sys.exit(main())
