"""MAMO's memories: the feature-specific memories (M_P, M_U) and the task memory (M_UI).

The memories are small dense arrays updated once per user, outside any gradient; they are
held as NumPy arrays so that reading and writing them costs microseconds, not kernel
launches. The arithmetic follows the paper (Eq. 3-6) and the reference implementation.
"""

from typing import Sequence

import numpy as np


def cosine_similarity(p_u: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``p_u`` (D,) with each row of ``rows`` (K, D).

    As in the reference, 1e-5 is added to every squared element inside both norms.
    """
    p_u = p_u.astype(np.float32)
    query_norm = np.sqrt(np.sum(p_u * p_u + 1e-5, dtype=np.float32))
    row_norms = np.sqrt(np.sum(rows * rows + 1e-5, axis=1, dtype=np.float32))
    return (rows @ p_u) / (query_norm * row_norms)


def attention(p_u: np.ndarray, profile_memory: np.ndarray) -> np.ndarray:
    """Attention of a user over the K memory slots: softmax of the cosine similarities
    between its profile ``p_u`` and the rows of M_P (paper, Eq. 3)."""
    sims = cosine_similarity(p_u, profile_memory)
    exp = np.exp(sims - sims.max())
    return (exp / exp.sum()).astype(np.float32)


class FeatureMem:
    """Profile memory M_P (K x profile_dim) and feature memory M_U (K slots shaped like
    the user-embedding weights phi_u)."""

    def __init__(self, n_k: int, u_emb_dim: int, u_weight_shapes: Sequence[tuple],
                 rng: np.random.Generator):
        self.n_k = n_k
        self.p_memory = rng.standard_normal((n_k, u_emb_dim)).astype(np.float32)
        # Each slot is drawn on its own (the reference aliases all K slots to one tensor).
        self.u_memory = [[(0.05 * rng.standard_normal(shape)).astype(np.float32)
                          for shape in u_weight_shapes] for _ in range(n_k)]

    def read_head(self, p_u: np.ndarray, alpha: float, train: bool = True):
        """Personalised bias term ``b_u = sum_k a_k M_U[k]`` and attention ``a_u``.

        In training the profile memory moves towards the user: M_P <- alpha a_u p_u^T +
        (1 - alpha) M_P. Testing reads only.
        """
        p_u = np.asarray(p_u, dtype=np.float32).reshape(-1)
        att = attention(p_u, self.p_memory)
        bias_term = [sum(att[k] * self.u_memory[k][j] for k in range(self.n_k))
                     for j in range(len(self.u_memory[0]))]
        if train:
            self.p_memory = (alpha * np.outer(att, p_u) + (1 - alpha) * self.p_memory
                             ).astype(np.float32)
        return [b.astype(np.float32) for b in bias_term], att

    def write_head(self, att: np.ndarray, u_grads: Sequence[np.ndarray], lr: float):
        """M_U[k] <- lr a_k g_u + (1 - lr) M_U[k], with g_u the user-embedding gradients."""
        for k in range(self.n_k):
            self.u_memory[k] = [(lr * att[k] * g + (1 - lr) * m).astype(np.float32)
                                for g, m in zip(u_grads, self.u_memory[k])]

    def state(self) -> dict:
        """Arrays that define the memory, by name (for checkpoints)."""
        out = {'p_memory': self.p_memory}
        for k, slot in enumerate(self.u_memory):
            for j, arr in enumerate(slot):
                out[f'u_memory.{k}.{j}'] = arr
        return out

    def load_state(self, state: dict):
        """Restore from :meth:`state`'s output."""
        self.p_memory = np.asarray(state['p_memory'], dtype=np.float32)
        self.u_memory = [[np.asarray(state[f'u_memory.{k}.{j}'], dtype=np.float32)
                          for j in range(len(self.u_memory[k]))] for k in range(self.n_k)]


class TaskMem:
    """Task memory M_UI (K x 2d x 2d): a fast-weight bank for the recommender's memory layer."""

    def __init__(self, n_k: int, emb_dim: int, rng: np.random.Generator):
        self.n_k = n_k
        self.memory_UI = rng.standard_normal((n_k, emb_dim * 2, emb_dim * 2)).astype(np.float32)

    def read_head(self, att: np.ndarray) -> np.ndarray:
        """The user's memory-layer weight ``sum_k a_k M_UI[k]``."""
        return np.tensordot(att.astype(np.float32), self.memory_UI, axes=1).astype(np.float32)

    def write_head(self, att: np.ndarray, u_mui: np.ndarray, lr: float):
        """M_UI <- lr (a_u outer W_mem) + (1 - lr) M_UI, with W_mem the adapted weight."""
        update = att.reshape(-1, 1, 1).astype(np.float32) * u_mui[None]
        self.memory_UI = (lr * update + (1 - lr) * self.memory_UI).astype(np.float32)

    def state(self) -> dict:
        """Arrays that define the memory, by name (for checkpoints)."""
        return {'memory_UI': self.memory_UI}

    def load_state(self, state: dict):
        """Restore from :meth:`state`'s output."""
        self.memory_UI = np.asarray(state['memory_UI'], dtype=np.float32)
