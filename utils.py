"""Small helpers shared by the model and the training script.

Everything here is a pure function of its arguments (or a tiny data holder): the train/test
user split, support/query splitting, PyTorch-compatible initialisation, the global-norm
clipping and Adam arithmetic of the local update, and the paper's metrics.
"""

import math
from typing import Dict, List, NamedTuple, Sequence

import numpy as np

# Feature cardinalities of the reference (MovieLens-1M); prepared data overrides them.
ML_FEATURE_SIZES = {
    'n_gender': 2, 'n_age': 7, 'n_occupation': 21,
    'n_rate': 6, 'n_year': 81, 'n_genre': 25, 'n_director': 2186,
}

# ... and of Book-Crossing (the reference's config; prepared data overrides them).
BK_FEATURE_SIZES = {
    'n_age_bk': 106, 'n_location': 65, 'n_year_bk': 80, 'n_author': 25593,
    'n_publisher': 5254,
}

DATASET_INFO = {
    'movielens': {'n_y': 5, 'u_in_dim': 3, 'i_in_dim': 4},
    'bookcrossing': {'n_y': 10, 'u_in_dim': 2, 'i_in_dim': 3},
}
DEFAULT_FEATURE_SIZES = {'movielens': ML_FEATURE_SIZES, 'bookcrossing': BK_FEATURE_SIZES}

SCENARIOS = ('W-W', 'W-C', 'C-W', 'C-C')  # scenario codes 0..3 of the prepared data


class ConfigError(ValueError):
    """A configuration or command-line value that cannot be used."""


# ===================== users and tasks ==========================
class UserTask(NamedTuple):
    """One user's support and query sets; ``y`` holds class indices 0..n_y-1."""
    user_id: int
    sup_x1: np.ndarray
    sup_x2: np.ndarray
    sup_y: np.ndarray
    sup_y0: np.ndarray
    que_x1: np.ndarray
    que_x2: np.ndarray
    que_y: np.ndarray
    que_y0: np.ndarray


def make_task(sample, support_size: int, query_size: int) -> UserTask:
    """Split one prepared user sample into support (first rows) and query (next rows).

    As in the reference's ``load_user_info``: the user features are repeated for every
    rating and ratings 1..5 become class indices 0..4.
    """
    n = len(sample.y)
    x1 = np.tile(np.asarray(sample.x1, dtype=np.int32), (n, 1))
    # Item rows are small non-negative integers; uint8 keeps 6,040 users in ~0.3 GB.
    x2 = np.asarray(sample.x2, dtype=np.uint8 if sample.x2.max(initial=0) < 256 else np.int32)
    y = np.asarray(sample.y, dtype=np.int32) - 1
    y0 = np.asarray(sample.y0, dtype=np.int32)
    s, q = slice(0, support_size), slice(support_size, support_size + query_size)
    return UserTask(int(sample.user_id), x1[s], x2[s], y[s], y0[s], x1[q], x2[q], y[q], y0[q])


def train_test_split(n_users: int, split_ratio: float, seed: int):
    """Seeded shuffle of user positions 0..n_users-1, then the first ``split_ratio`` train.

    The reference shuffles ``range(1, n_users)`` unseeded, dropping the last user; the port
    shuffles every user with a seeded generator (README, "Differences from the reference").
    """
    order = np.random.default_rng(seed).permutation(n_users)
    n_train = int(n_users * split_ratio)
    return order[:n_train].tolist(), order[n_train:].tolist()


# ===================== initialisation ==========================
def torch_linear_init(rng: np.random.Generator, out_dim: int, in_dim: int):
    """PyTorch's default ``nn.Linear`` initialisation: U(-1/sqrt(in), 1/sqrt(in))."""
    bound = 1.0 / math.sqrt(in_dim)
    weight = rng.uniform(-bound, bound, size=(out_dim, in_dim)).astype(np.float32)
    bias = rng.uniform(-bound, bound, size=(out_dim,)).astype(np.float32)
    return weight, bias


# ===================== local-update arithmetic ==========================
def clip_coefficient(total_norm: float, max_norm: float) -> float:
    """PyTorch ``clip_grad_norm_``'s factor: min(1, max_norm / (norm + 1e-6))."""
    return min(1.0, max_norm / (total_norm + 1e-6))


class AdamHyper(NamedTuple):
    """PyTorch ``torch.optim.Adam`` defaults (the reference uses them with lr = rho)."""
    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def step_scalars(self, step: int):
        """(step size, sqrt of the second-moment bias correction) of Adam step ``step``."""
        bias_c1 = 1.0 - self.beta1 ** step
        bias_c2 = 1.0 - self.beta2 ** step
        return self.lr / bias_c1, math.sqrt(bias_c2)


# ===================== parameter lists ==========================
def grads_sum(acc: List[np.ndarray], new: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Element-wise sum of two gradient lists."""
    return [a + b for a, b in zip(acc, new)]


def update_parameters(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], lr: float):
    """One plain gradient step ``p - lr * g`` over lists of arrays."""
    return [(p - lr * g).astype(np.float32) for p, g in zip(params, grads)]


# ===================== metrics (paper, Table 1) ==========================
def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error; NaN for no ratings."""
    if len(y_true) == 0:
        return float('nan')
    return float(np.mean(np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))))


def ndcg_at_k(y_true: np.ndarray, y_pred: np.ndarray, k: int = 3) -> float:
    """nDCG@k of one list: rank by prediction (descending, stable), gain 2^y - 1."""
    y_true = np.asarray(y_true, dtype=float)
    order = np.argsort(-np.asarray(y_pred, dtype=float), kind='stable')
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ranked = y_true[order][:k]
    ideal = np.sort(y_true)[::-1][:k]
    dcg = np.sum((2.0 ** ranked - 1.0) * discounts[:len(ranked)])
    idcg = np.sum((2.0 ** ideal - 1.0) * discounts[:len(ideal)])
    return float(dcg / idcg) if idcg > 0 else 0.0


def ndcg_clips(y_true: np.ndarray, y_pred: np.ndarray, clip: int = 5, k: int = 3) -> float:
    """Mean nDCG@k over consecutive clips of ``clip`` pairs (the paper's appendix A.2.3).

    A shorter last clip is scored like the others; NaN for no pairs.
    """
    n = len(y_true)
    if n == 0:
        return float('nan')
    scores = [ndcg_at_k(y_true[i:i + clip], y_pred[i:i + clip], k) for i in range(0, n, clip)]
    return float(np.mean(scores))


def scenario_metrics(y_true, y_pred, codes) -> Dict[str, Dict[str, float]]:
    """MAE and nDCG@3 per scenario (W-W, W-C, C-W, C-C) and over all ratings.

    Pairs stay in the order given (test-user order), so clips are consecutive ratings.
    """
    y_true, y_pred, codes = (np.asarray(a) for a in (y_true, y_pred, codes))
    out = {}
    for code, name in enumerate(SCENARIOS):
        sel = codes == code
        out[name] = {'n': int(sel.sum()), 'mae': mae(y_true[sel], y_pred[sel]),
                     'ndcg3': ndcg_clips(y_true[sel], y_pred[sel])}
    out['all'] = {'n': int(len(y_true)), 'mae': mae(y_true, y_pred),
                  'ndcg3': ndcg_clips(y_true, y_pred)}
    return out


def support_mean_prediction(sup_ratings: np.ndarray, n_query: int) -> np.ndarray:
    """Baseline: every query rating predicted as the support ratings' mean, rounded half up."""
    return np.full(n_query, math.floor(float(np.mean(sup_ratings)) + 0.5), dtype=np.int64)
