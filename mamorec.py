"""MAMO meta-training and testing on prepared MovieLens-1M data.

    python mamorec.py [--device CPU] [--epochs N] [--seed S] [--set key=value ...]
                      [--data-dir DIR] [--out-dir DIR] [--resume] [--eval-only CKPT]

Trains MAMO on every training user, tests it on the held-out users after each epoch the
way the paper's Table 1 does, prints MAE and nDCG@3 per scenario next to a simple
baseline, and writes checkpoints and ``results.json`` into the run folder.
"""

import argparse
import copy
import datetime
import os
import sys
import time
from typing import List, Optional

import numpy as np

# MindSpore logs every absent backend and thread setting as a warning; show errors only
# unless the user asks otherwise (GLOG_v=2 brings the warnings back).
os.environ.setdefault('GLOG_v', '3')

import mindspore as ms  # noqa: E402
import mindspore.runtime  # noqa: E402
from tqdm import tqdm  # noqa: E402

import configs  # noqa: E402
from models import LOCALUpdate, build_model, maml_train, user_mem_init  # noqa: E402
from modules.fast_update import FastEngine, fast_path_unsupported  # noqa: E402
from modules.memories import FeatureMem, TaskMem  # noqa: E402
from prepare_data import PrepareError, load_dataset_name, load_feature_sizes, \
    load_samples  # noqa: E402
from run_files import checkpoint_paths, last_completed_epoch, load_state, read_json, \
    save_state, write_json  # noqa: E402
from utils import DATASET_INFO, DEFAULT_FEATURE_SIZES, SCENARIOS, ConfigError, grads_sum, \
    make_task, scenario_metrics, support_mean_prediction, train_test_split  # noqa: E402

REPO_DIR = os.path.dirname(os.path.abspath(__file__))
DEVICES = ('CPU', 'GPU', 'Ascend')
DATASETS = ('movielens', 'bookcrossing')
ACTIVATIONS = ('sigmoid', 'tanh', 'relu', 'softmax', 'leaky_relu', 'none')


# ============================== configuration ==============================
def _parse_value(key: str, text: str, default):
    """``text`` converted to the type of the key's default value."""
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ('true', '1', 'yes', 'on'):
            return True
        if lowered in ('false', '0', 'no', 'off'):
            return False
        raise ConfigError(f'--set {key}={text}: expected true or false')
    for kind in (int, float):
        if isinstance(default, kind):
            try:
                return kind(text)
            except ValueError:
                raise ConfigError(f'--set {key}={text}: expected a number of type '
                                  f'{kind.__name__}') from None
    return text


def apply_overrides(config: dict, assignments: List[str]) -> dict:
    """A copy of ``config`` with ``key=value`` assignments applied (typed like the key)."""
    config = dict(config)
    for item in assignments:
        key, sep, text = item.partition('=')
        key = key.strip()
        if not sep:
            raise ConfigError(f'--set {item}: expected key=value')
        if key not in config:
            known = ', '.join(sorted(config))
            raise ConfigError(f'--set {item}: unknown key {key!r}; known keys: {known}')
        config[key] = _parse_value(key, text, config[key])
    return config


def validate_config(config: dict):
    """Reject values the model cannot run with, one clear message per problem."""
    positive_ints = ('support_size', 'query_size', 'embedding_dim', 'n_layer', 'n_k',
                     'batch_size', 'n_inner_loop', 'meta_batch', 'test_batch')
    for key in positive_ints:
        if not isinstance(config[key], int) or config[key] < 1:
            raise ConfigError(f'{key}={config[key]!r}: must be a positive integer')
    for key in ('n_epoch', 'max_train_users'):
        if not isinstance(config[key], int) or config[key] < 0:
            raise ConfigError(f'{key}={config[key]!r}: must be a non-negative integer')
    if not 0.0 < config['split_ratio'] < 1.0:
        raise ConfigError(f"split_ratio={config['split_ratio']!r}: must be between 0 and 1")
    for key in ('alpha', 'beta', 'gamma'):
        if not 0.0 <= config[key] <= 1.0:
            raise ConfigError(f'{key}={config[key]!r}: must be between 0 and 1')
    for key in ('rho', 'lamda', 'clip_norm'):
        if config[key] <= 0:
            raise ConfigError(f'{key}={config[key]!r}: must be positive')
    if config['active_func'].lower() not in ACTIVATIONS:
        raise ConfigError(f"active_func={config['active_func']!r}: choose one of "
                          f"{', '.join(ACTIVATIONS)}")


def configure_runtime(device: str, cpu_tuning: bool = True):
    """Select the backend; on CPU run kernels synchronously (see README, "Speed")."""
    if device not in DEVICES:
        raise ConfigError(f'--device {device}: choose one of {", ".join(DEVICES)}')
    if device != 'CPU' and not _device_available(device):
        available = [d for d in DEVICES if d == 'CPU' or _device_available(d)]
        raise ConfigError(f'--device {device}: this MindSpore installation or machine has no '
                          f'{device} backend; available: {", ".join(available)}')
    ms.set_device(device)
    if device == 'CPU' and cpu_tuning:
        # Asynchronous dispatch and MindSpore's default thread pools (25 kernel threads,
        # 5 dispatch threads) cost milliseconds per small kernel on a few CPU cores.
        mindspore.runtime.launch_blocking()
        _set_once(ms.device_context.cpu.op_tuning.threads_num, 1)
        _set_once(mindspore.runtime.dispatch_threads_num, 1)
        # The work is a chain of small kernels: one core, without migrations, is fastest.
        if hasattr(os, 'sched_setaffinity'):
            cores = sorted(os.sched_getaffinity(0))
            current = _current_cpu()   # where the scheduler put us: likely the idler core
            os.sched_setaffinity(0, {current if current in cores else cores[0]})


def _current_cpu():
    """The CPU this process last ran on (Linux ``/proc/self/stat``), or None."""
    try:
        with open('/proc/self/stat', encoding='ascii') as f:
            return int(f.read().rsplit(')', 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


def _set_once(setter, value):
    """MindSpore refuses to set some runtime options twice in a process; keep the first."""
    try:
        setter(value)
    except RuntimeError:
        pass


def _device_available(device: str) -> bool:
    try:
        return bool(ms.hal.is_available(device))
    except Exception:  # a backend whose libraries are absent may raise instead of saying no
        return False


# ============================== the meta-learner ==============================
class MAMRec:
    """MAMO's meta-training and testing over prepared samples (reference ``MAMRec``)."""

    def __init__(self, config: dict, samples, feature_sizes: Optional[dict] = None,
                 dataset: str = 'movielens', local_update: str = 'fast'):
        self.config = dict(config)
        self.dataset = dataset
        self.local_update = local_update
        self.tasks = [make_task(s, config['support_size'], config['query_size'])
                      for s in samples]
        if len(self.tasks) < 2:
            raise ConfigError(f'need at least 2 users to split into train and test, got '
                              f'{len(self.tasks)}')
        self.train_users, self.test_users = train_test_split(
            len(self.tasks), config['split_ratio'], config['random_state'])
        if config['max_train_users'] > 0:
            self.train_users = self.train_users[:config['max_train_users']]

        self.model = build_model(config, feature_sizes, dataset)
        self.engine = None
        if local_update == 'fast':
            reason = fast_path_unsupported(config, dataset)
            if reason:
                print(f'note: compiled local update unavailable ({reason}); using the plain path')
                self.local_update = 'plain'
            else:
                self.engine = FastEngine(self.model, config,
                                         dict(DEFAULT_FEATURE_SIZES[dataset],
                                              **(feature_sizes or {})),
                                         DATASET_INFO[dataset]['n_y'])
        self.phi_u, self.phi_i, self.phi_r = self.model.get_weights()
        mem_rng = np.random.default_rng([config['seed'], 1])
        u_in_dim = DATASET_INFO[dataset]['u_in_dim'] * config['embedding_dim']
        self.feature_mem = FeatureMem(config['n_k'], u_in_dim, [w.shape for w in self.phi_u],
                                      mem_rng)
        self.task_mem = TaskMem(config['n_k'], config['embedding_dim'], mem_rng)

    # ---- one user ----------------------------------------------------------------
    def _updater(self, task):
        c = self.config
        return LOCALUpdate.from_task(self.model, task, c['batch_size'], c['n_inner_loop'],
                                     c['rho'], c['clip_norm'])

    def _adapt_and_query_gradients(self, task):
        """Local update of the model to ``task``: (g_u, g_i, g_r, query loss)."""
        if self.engine is None:
            updater = self._updater(task)
            u_grad, i_grad, r_grad = (_to_numpy(g) for g in updater.train())
            return u_grad, i_grad, r_grad, updater.last_query_loss
        grads, loss = self.engine.train(task)
        n_u, n_i = len(self.phi_u), len(self.phi_i)
        return grads[:n_u], grads[n_u:n_u + n_i], grads[n_u + n_i:], loss

    def _adapted_query_probabilities(self, task):
        if self.engine is None:
            return self._updater(task).test()
        return self.engine.test(task)

    def _personal_weights(self, task, train: bool):
        """The user's starting weights by name and its attention (paper, Algorithm 1,
        lines 5-8): theta_u = phi_u - tao b_u, theta_i = phi_i, theta_r = phi_r with the
        memory layer read from the task memory. Biases and loading layers are not set."""
        c = self.config
        bias_term, att = user_mem_init(task.sup_x1[0], self.feature_mem,
                                       self.model.input_user_loading, c['alpha'], train=train)
        if not c['feature_memory']:      # ablation: theta_u <- phi_u, no bias term
            bias_term = [np.zeros_like(w) for w in self.phi_u]
        names = {part: [p.name for p in self.model.weight_params(part)]
                 for part in ('user_embedding', 'item_embedding', 'rec_model')}
        weights = {n: w - c['tao'] * b
                   for n, w, b in zip(names['user_embedding'], self.phi_u, bias_term)}
        weights.update(zip(names['item_embedding'], self.phi_i))
        weights.update(zip(names['rec_model'], self.phi_r))
        if c['task_memory']:             # ablation off: the memory layer keeps phi_r[0]
            weights[self.model.rec_model.mem_layer.weight.name] = self.task_mem.read_head(att)
        return weights, att

    def _personalise(self, task, train: bool):
        """Set the model to the user's starting weights; returns its attention."""
        weights, att = self._personal_weights(task, train)
        self.model.set_parameters_dict(weights)
        return att

    # ---- phases ------------------------------------------------------------------
    def train_epoch(self, desc: str = 'train') -> float:
        """One pass over the training users; returns the mean query loss."""
        c = self.config
        sums = self.model.get_zero_weights()
        pending, losses = 0, []
        for idx in tqdm(self.train_users, desc=desc, unit='user', leave=False):
            task = self.tasks[idx]
            att = self._personalise(task, train=True)
            u_grad, i_grad, r_grad, loss = self._adapt_and_query_gradients(task)
            losses.append(loss)
            sums = tuple(grads_sum(s, g) for s, g in zip(sums, (u_grad, i_grad, r_grad)))
            pending += 1
            if c['feature_memory']:
                self.feature_mem.write_head(att, u_grad, c['beta'])
            if c['task_memory']:
                self.task_mem.write_head(att, self.model.get_ui_mem_weights()[0], c['gamma'])
            if pending == c['meta_batch']:
                self.phi_u, self.phi_i, self.phi_r = maml_train(
                    self.phi_u, self.phi_i, self.phi_r, *sums, c['lamda'])
                sums, pending = self.model.get_zero_weights(), 0
        if pending:
            self.phi_u, self.phi_i, self.phi_r = maml_train(
                self.phi_u, self.phi_i, self.phi_r, *sums, c['lamda'])
        return float(np.mean(losses)) if losses else float('nan')

    def predict_test_users(self, desc: str = 'test'):
        """Adapt to every test user from the same state; returns (y, y_hat, codes, baseline).

        Memories are read, never written, and each test user starts from phi and the
        state the training left (paper, Algorithm 2).
        """
        start_state = self.model.get_parameters_dict()
        tasks = [self.tasks[idx] for idx in self.test_users]
        batched = None
        if self.engine is not None and self.config['test_batch'] > 1:
            starts = [self._personal_weights(t, train=False)[0]
                      for t in tqdm(tasks, desc=f'{desc} (memory read)', unit='user',
                                    leave=False)]
            batched = self.engine.test_many(tasks, starts, self.config['test_batch'])
        y_true, y_pred, codes, base_pred = [], [], [], []
        for k, task in enumerate(tqdm(tasks, desc=desc, unit='user', leave=False,
                                      disable=batched is not None)):
            if batched is not None:
                probs = batched[k]
            else:
                if self.engine is None:    # the plain path adapts the model in place
                    self.model.set_parameters_dict(start_state)
                self._personalise(task, train=False)
                probs = self._adapted_query_probabilities(task)
            y_true.append(task.que_y + 1)
            y_pred.append(np.argmax(probs, axis=1) + 1)
            codes.append(task.que_y0)
            base_pred.append(support_mean_prediction(task.sup_y + 1, len(task.que_y)))
        self.model.set_parameters_dict(start_state)
        cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return cat(y_true), cat(y_pred), cat(codes), cat(base_pred)

    def evaluate(self, desc: str = 'test'):
        """(MAMO metrics, baseline metrics) per scenario."""
        y, y_hat, codes, base = self.predict_test_users(desc)
        return scenario_metrics(y, y_hat, codes), scenario_metrics(y, base, codes)

    # ---- state ---------------------------------------------------------------------
    def meta_state(self) -> dict:
        """phi and the memories, by name."""
        state = {}
        for part, weights in (('phi_u', self.phi_u), ('phi_i', self.phi_i),
                              ('phi_r', self.phi_r)):
            for j, w in enumerate(weights):
                state[f'{part}.{j}'] = w
        state.update({f'feature_mem.{k}': v for k, v in self.feature_mem.state().items()})
        state.update({f'task_mem.{k}': v for k, v in self.task_mem.state().items()})
        return state

    def load_meta_state(self, state: dict):
        """Restore :meth:`meta_state`'s output."""
        for part in ('phi_u', 'phi_i', 'phi_r'):
            weights = getattr(self, part)
            setattr(self, part, [np.asarray(state[f'{part}.{j}'], np.float32)
                                 for j in range(len(weights))])
        self.feature_mem.load_state({k[len('feature_mem.'):]: v for k, v in state.items()
                                     if k.startswith('feature_mem.')})
        self.task_mem.load_state({k[len('task_mem.'):]: v for k, v in state.items()
                                  if k.startswith('task_mem.')})


def _to_numpy(tensors):
    return [t.asnumpy() if hasattr(t, 'asnumpy') else np.asarray(t) for t in tensors]


# ============================== reporting ==============================
def format_table(metrics: dict, baseline: dict) -> str:
    """MAE and nDCG@3 per scenario for MAMO and the support-mean baseline."""
    def fmt(x):
        return '     -' if x is None or (isinstance(x, float) and np.isnan(x)) else f'{x:6.4f}'
    lines = [f"{'scenario':8} {'n':>6}  {'MAE':>6} {'nDCG@3':>6}   "
             f"{'MAE':>6} {'nDCG@3':>6}",
             f"{'':8} {'':>6}  {'MAMO':^13}   {'support mean':^13}"]
    for name in SCENARIOS + ('all',):
        m, b = metrics[name], baseline[name]
        lines.append(f"{name:8} {m['n']:>6}  {fmt(m['mae'])} {fmt(m['ndcg3'])}   "
                     f"{fmt(b['mae'])} {fmt(b['ndcg3'])}")
    return '\n'.join(lines)


# ============================== command line ==============================
def parse_args(argv=None):
    p = argparse.ArgumentParser(description='MAMO meta-training and testing (MindSpore).')
    p.add_argument('--dataset', default='movielens', choices=DATASETS,
                   help="movielens (default) or bookcrossing (the paper's settings for it)")
    p.add_argument('--device', default='CPU', help='CPU (default), GPU or Ascend')
    p.add_argument('--epochs', type=int, help='number of epochs (config n_epoch)')
    p.add_argument('--seed', type=int, help='seed of weights and memories (config seed)')
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                   help='override any configs.py key; repeatable')
    p.add_argument('--data-dir', help='prepared data (default: data_processed/<dataset>)')
    p.add_argument('--out-dir', help='run folder (default: runs/<timestamp>)')
    p.add_argument('--resume', action='store_true',
                   help='continue the run in --out-dir (default: the newest under runs/) '
                        'from its last completed epoch')
    p.add_argument('--eval-only', metavar='CHECKPOINT',
                   help='test the model of an epoch_<k>.ckpt and stop')
    p.add_argument('--plain', action='store_true',
                   help='use the plain (uncompiled, PyNative) local update')
    p.add_argument('--no-cpu-tuning', action='store_true',
                   help="keep MindSpore's default CPU runtime (asynchronous dispatch, thread "
                        "pools, no core pinning); slower for this model")
    args = p.parse_args(argv)
    if args.data_dir is None:
        args.data_dir = os.path.join(REPO_DIR, 'data_processed', args.dataset)
    return args


def build_config(args) -> dict:
    config = dict(copy.deepcopy(configs.config_settings),
                  **configs.dataset_settings[args.dataset])
    config = apply_overrides(config, args.set)
    if args.epochs is not None:
        config['n_epoch'] = args.epochs
    if args.seed is not None:
        config['seed'] = args.seed
    validate_config(config)
    return config


def _newest_run(runs_dir: str) -> str:
    """The run folder under ``runs_dir`` whose results.json was written last."""
    found = [os.path.join(runs_dir, d, 'results.json') for d in
             (os.listdir(runs_dir) if os.path.isdir(runs_dir) else [])]
    found = [f for f in found if os.path.isfile(f)]
    if not found:
        raise ConfigError(f'--resume: no run with a results.json under {runs_dir}')
    return os.path.dirname(max(found, key=os.path.getmtime))


def load_data(data_dir: str, dataset: str):
    """Samples and feature sizes of prepared data, which must be of ``dataset``."""
    samples, sizes = load_samples(data_dir), load_feature_sizes(data_dir)
    found = load_dataset_name(data_dir)
    if found != dataset:
        raise ConfigError(f'{data_dir} holds {found} data, not {dataset}; pass '
                          f'--dataset {found} or another --data-dir')
    return samples, sizes


def _print_parameters(model):
    for name, param in model.parameters_and_names():
        print(f'{name:45} {tuple(param.shape)}')


def run_training(args, config: dict) -> dict:
    """Train (or resume) and test after each epoch; returns the results dict."""
    run_dir = args.out_dir
    results = None
    if args.resume:
        run_dir = run_dir or _newest_run(os.path.join(REPO_DIR, 'runs'))
        results_path = os.path.join(run_dir, 'results.json')
        if not os.path.isfile(results_path):
            raise ConfigError(f'--resume: {results_path} not found')
        results = read_json(results_path)
        n_epoch = config['n_epoch'] if args.epochs is not None else None
        config = dict(results['config'])
        if n_epoch is not None:
            config['n_epoch'] = n_epoch
    local_update = 'plain' if args.plain else 'fast'
    dataset = results.get('dataset', 'movielens') if results else args.dataset
    samples, sizes = load_data(args.data_dir, dataset)
    rec = MAMRec(config, samples, sizes, dataset=dataset, local_update=local_update)
    run_dir = run_dir or os.path.join(REPO_DIR, 'runs',
                                      datetime.datetime.now().strftime('%Y%m%d-%H%M%S'))
    os.makedirs(run_dir, exist_ok=True)
    print(f'MAMO on {dataset}: {len(rec.tasks)} users ({len(rec.train_users)} train, '
          f'{len(rec.test_users)} test), device {args.device}, local update {rec.local_update}')
    _print_parameters(rec.model)

    done = last_completed_epoch(results)
    if done:
        params, meta = load_state(checkpoint_paths(run_dir, done)[0])
        rec.model.set_parameters_dict(params)
        rec.load_meta_state(meta)
        print(f'resumed {run_dir} after epoch {done}')
    else:
        results = {'config': config, 'dataset': dataset,
                   'data_dir': os.path.abspath(args.data_dir),
                   'device': args.device, 'local_update': rec.local_update,
                   'n_train_users': len(rec.train_users), 'n_test_users': len(rec.test_users),
                   'epochs': []}

    for epoch in range(done + 1, config['n_epoch'] + 1):
        t0 = time.time()
        train_loss = rec.train_epoch(desc=f'epoch {epoch}/{config["n_epoch"]} train')
        t1 = time.time()
        metrics, baseline = rec.evaluate(desc=f'epoch {epoch}/{config["n_epoch"]} test')
        t2 = time.time()
        model_ckpt, _ = checkpoint_paths(run_dir, epoch)
        save_state(model_ckpt, rec.model.get_parameters_dict(), rec.meta_state())
        results['epochs'].append({'epoch': epoch,
                                  'seconds': {'train': round(t1 - t0, 3),
                                              'test': round(t2 - t1, 3)},
                                  'train_loss': train_loss, 'metrics': metrics,
                                  'baseline': {'support_mean': baseline}})
        write_json(os.path.join(run_dir, 'results.json'), results)
        print(f'\nepoch {epoch}: train {t1 - t0:.1f} s, test {t2 - t1:.1f} s, '
              f'train query loss {train_loss:.4f}')
        print(format_table(metrics, baseline))
    print(f'\nrun folder: {run_dir}')
    return results


def run_eval_only(args, config: dict) -> dict:
    """Test the model stored in ``args.eval_only``; writes ``<checkpoint>.eval.json``."""
    ckpt = args.eval_only
    params, meta = load_state(ckpt)
    results_path = os.path.join(os.path.dirname(os.path.abspath(ckpt)), 'results.json')
    dataset = args.dataset
    if os.path.isfile(results_path):
        recorded = read_json(results_path)       # the split and sizes of that run
        config = dict(recorded['config'])
        dataset = recorded.get('dataset', dataset)
    samples, sizes = load_data(args.data_dir, dataset)
    rec = MAMRec(config, samples, sizes, dataset=dataset,
                 local_update='plain' if args.plain else 'fast')
    rec.model.set_parameters_dict(params)
    rec.load_meta_state(meta)
    t0 = time.time()
    metrics, baseline = rec.evaluate()
    out = {'checkpoint': os.path.abspath(ckpt), 'config': config,
           'seconds': round(time.time() - t0, 3), 'n_test_users': len(rec.test_users),
           'metrics': metrics, 'baseline': {'support_mean': baseline}}
    root = ckpt[:-len('.ckpt')] if ckpt.endswith('.ckpt') else ckpt
    write_json(root + '.eval.json', out)
    print(format_table(metrics, baseline))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = build_config(args)
        if args.resume and (args.set or args.seed is not None):
            raise ConfigError('--resume keeps the recorded config; only --epochs may change')
        configure_runtime(args.device, cpu_tuning=not args.no_cpu_tuning)
        if args.eval_only:
            run_eval_only(args, config)
        else:
            run_training(args, config)
    except (ConfigError, PrepareError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
