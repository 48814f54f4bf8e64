"""The compiled local update: one MindSpore graph per user.

Same arithmetic as ``models.LOCALUpdate`` (the plain path), arranged for a CPU where
every kernel launch costs tens of microseconds:

- the whole update (every inner step and the query pass) is one ``jit`` graph, launched
  once per user;
- the backward pass is written out by hand for this small network (matmuls with
  transpose flags, no Transpose kernels); ``tests/test_fast_update.py`` checks it against
  MindSpore's autodiff;
- gradient clipping and Adam are one fused kernel per parameter
  (``FusedCastAdamWeightDecay`` with bias-corrected learning rate and epsilon, and the
  clipping factor passed as its ``global_norm``), which equals PyTorch's Adam after
  ``clip_grad_norm_``;
- embeddings are one-hot matmuls (their gradients are then matmuls too);
- the director layer works on the columns of the user's own directors: every other
  column has zero gradient and zero Adam moments throughout the update, so it stays
  exactly as it is (its product with a multi-hot row is the sum of the selected columns).
"""

from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import mindspore as ms
import numpy as np
from mindspore import nn, ops

from utils import AdamHyper

try:  # the fused clipped-Adam kernel of MindSpore's CPU backend
    from mindspore.ops.operations.inner_ops import FusedCastAdamWeightDecay
except ImportError:  # pragma: no cover - other MindSpore versions
    FusedCastAdamWeightDecay = None

FAST_ACTIVATIONS = ('leaky_relu', 'relu', 'sigmoid', 'tanh')
DIRECTOR_BUCKET = 64  # local director columns are padded to a multiple of this (fewer graphs)


class Layout(NamedTuple):
    """Where each parameter sits in the model's ``trainable_params()`` order."""
    user_tables: Tuple[int, ...]        # gender, age, occupation embedding tables
    rate: int
    genre: int
    director: int
    year: int
    user_layers: Tuple[Tuple[int, int], ...]   # (weight, bias) of user_embedding, in order
    item_layers: Tuple[Tuple[int, int], ...]
    mem_layer: Tuple[int, int]
    rec_layers: Tuple[Tuple[int, int], ...]    # rec_model fc layers, then the final layer


def model_layout(names: Sequence[str]) -> Layout:
    """The :class:`Layout` of a ``BASEModel`` from its parameter names."""
    pos = {n: i for i, n in enumerate(names)}

    def layers(prefix):
        weights = [n for n in names if n.startswith(prefix) and n.endswith('.weight')]
        return tuple((pos[w], pos[w[:-len('weight')] + 'bias']) for w in weights)

    user, item = 'input_user_loading.', 'input_item_loading.'
    return Layout(
        user_tables=tuple(pos[user + f'embedding_{f}.embedding_table']
                          for f in ('gender', 'age', 'occupation')),
        rate=pos[item + 'emb_rate.embedding_table'], genre=pos[item + 'emb_genre.weight'],
        director=pos[item + 'emb_director.weight'], year=pos[item + 'emb_year.embedding_table'],
        user_layers=layers('user_embedding.'), item_layers=layers('item_embedding.'),
        mem_layer=(pos['rec_model.mem_layer.weight'], pos['rec_model.mem_layer.bias']),
        rec_layers=tuple(l for l in layers('rec_model.') if names[l[0]] != 'rec_model.mem_layer.weight'))


def fast_path_unsupported(config: dict, dataset: str = 'movielens') -> Optional[str]:
    """Why the compiled path cannot run ``config`` (None when it can)."""
    if dataset != 'movielens':
        return f'written for the MovieLens model, not {dataset}'
    if FusedCastAdamWeightDecay is None:
        return 'this MindSpore has no FusedCastAdamWeightDecay kernel'
    if config['active_func'].lower() not in FAST_ACTIVATIONS:
        return f"active_func {config['active_func']!r} (compiled path: {', '.join(FAST_ACTIVATIONS)})"
    return None


from mindspore.ops import auto_generate as _ag
from mindspore.ops.operations import _grad_ops as _go
_SOFTMAX_BACKWARD = _ag.SoftmaxBackward()
_SIGMOID_GRAD = _go.SigmoidGrad()
_BIAS_GRAD = _go.BiasAddGrad()
_MM = ops.MatMul()
_MM_NT = ops.MatMul(transpose_b=True)   # a @ b.T
_MM_TN = ops.MatMul(transpose_a=True)   # a.T @ b


def _activation(name: str):
    """(activation, its derivative from the output) for the supported names."""
    if name == 'leaky_relu':
        def act(z):
            slope = ops.select(z > 0, ops.ones_like(z), ops.full_like(z, 0.1))
            return z * slope, slope
    elif name == 'relu':
        def act(z):
            slope = ops.select(z > 0, ops.ones_like(z), ops.zeros_like(z))
            return z * slope, slope
    elif name == 'sigmoid':
        def act(z):
            a = ops.sigmoid(z)
            return a, a * (1 - a)
    else:  # tanh
        def act(z):
            a = ops.tanh(z)
            return a, 1 - a * a
    return act


def _dense(x, w, b):
    return ops.dense(x, w, b)


class _CompiledAdam(nn.Cell):
    """What the compiled updates share: the parameters and Adam moments as Parameters,
    reset from the inputs at the start of each call, and the fused clipped Adam step."""

    def __init__(self, shapes: Sequence[tuple], layout: Layout, activation: str,
                 adam: AdamHyper, n_loop: int, clip_norm: float):
        super().__init__()
        self.n_params = len(shapes)
        self.layout = layout
        self.act = _activation(activation.lower())
        self.adam_hyper = adam
        self.n_loop = n_loop
        self.clip_norm = clip_norm
        self.p, self.m, self.v = tuple(ms.ParameterTuple(
            [ms.Parameter(ms.Tensor(np.zeros(s, np.float32)), name=f'{tag}{k}')
             for k, s in enumerate(shapes)]) for tag in ('p', 'm', 'v'))
        self.adam = FusedCastAdamWeightDecay()

    def _reset(self, inputs):
        """Parameters <- the first n_params inputs; Adam moments <- 0 (a fresh Adam)."""
        for k in range(self.n_params):
            ops.assign(self.p[k], inputs[k])
            ops.assign(self.m[k], ops.zeros_like(inputs[k]))
            ops.assign(self.v[k], ops.zeros_like(inputs[k]))

    def _adam_step(self, g, step, global_norm):
        """PyTorch's Adam step ``step`` (from 1) on gradients ``g / global_norm``: the
        bias corrections are folded into the fused kernel's learning rate and epsilon."""
        hyper = self.adam_hyper
        bc1 = 1.0 - hyper.beta1 ** step
        bc2_sqrt = (1.0 - hyper.beta2 ** step) ** 0.5
        lr_t = hyper.lr * bc2_sqrt / bc1
        eps_t = hyper.eps * bc2_sqrt
        for k in range(self.n_params):
            self.adam(self.p[k], self.m[k], self.v[k], lr_t, hyper.beta1, hyper.beta2,
                      eps_t, 0.0, g[k], global_norm)


class FastUserUpdate(_CompiledAdam):
    """The compiled update of one user (train: adapted parameters and clipped query
    gradients; test: query probabilities).

    Inputs: the model's parameters (director weight reduced to the user's columns), the
    user's one-hot feature rows, and per support batch and for the query set the rate and
    year one-hots, genre multi-hot, local director multi-hot and label one-hots.
    """

    def __init__(self, shapes: Sequence[tuple], layout: Layout, activation: str,
                 adam: AdamHyper, n_loop: int, clip_norm: float, test: bool):
        super().__init__(shapes, layout, activation, adam, n_loop, clip_norm)
        self.test = test

    # ---- forward and backward --------------------------------------------------------
    def _forward(self, P, user_oh, rate, year, genre, director):
        L = self.layout
        n = rate.shape[0]
        pu = ops.concat([_MM(user_oh[i], P[L.user_tables[i]]) for i in range(3)], 1)
        eu, user_cache = self._layers_forward(P, pu, L.user_layers)   # one row
        genre_s = ops.sigmoid(_MM_NT(genre, P[L.genre]))
        director_s = ops.sigmoid(_MM_NT(director, P[L.director]))
        pi = ops.concat((_MM(rate, P[L.rate]), _MM(year, P[L.year]), genre_s, director_s), 1)
        ei, item_cache = self._layers_forward(P, pi, L.item_layers)
        x = ops.concat((ops.broadcast_to(eu, (n, eu.shape[1])), ei), 1)
        h = _dense(x, P[L.mem_layer[0]], P[L.mem_layer[1]])
        last, hidden_cache = self._layers_forward(P, h, L.rec_layers[:-1])
        w, b = L.rec_layers[-1]
        out = ops.softmax(_dense(last, P[w], P[b]), -1)
        return out, (user_cache, genre_s, director_s, item_cache, x, hidden_cache, last)

    def _layers_forward(self, P, x, layers):
        """Dense + activation for each (weight, bias); returns the output and, per layer,
        (its input, the activation's derivative)."""
        cache = []
        for w, b in layers:
            a, slope = self.act(_dense(x, P[w], P[b]))
            cache.append((x, slope))
            x = a
        return x, cache

    def _layers_backward(self, P, dx, layers, cache):
        """Back through :meth:`_layers_forward`'s layers: (d input, [(index, gradient)]).
        (Graph mode passes lists by value, so gradients are returned, not filled in.)"""
        found = []
        for k in range(len(layers) - 1, -1, -1):
            w, b = layers[k]
            x_in, slope = cache[k]
            dz = dx * slope
            found += [(w, _MM_TN(dz, x_in)), (b, _BIAS_GRAD(dz))]
            dx = _MM(dz, P[w])
        return dx, found

    def _grads(self, P, user_oh, rate, year, genre, director, label):
        """Gradients of mean cross-entropy(softmax output, label), for every parameter."""
        L = self.layout
        out, (user_cache, genre_s, director_s, item_cache, x_cat, hidden_cache, last) = \
            self._forward(P, user_oh, rate, year, genre, director)
        g = [None] * self.n_params
        n = rate.shape[0]
        # cross-entropy applies log_softmax to the (already softmaxed) output
        d_out = (ops.softmax(out, -1) - label) / n
        dz = _SOFTMAX_BACKWARD(d_out, out, -1)
        # final layer, rec hidden layers, memory layer
        w, b = L.rec_layers[-1]
        g[w], g[b] = _MM_TN(dz, last), _BIAS_GRAD(dz)
        dx, found = self._layers_backward(P, _MM(dz, P[w]), L.rec_layers[:-1], hidden_cache)
        for k, grad in found:
            g[k] = grad
        w, b = L.mem_layer
        g[w], g[b] = _MM_TN(dx, x_cat), _BIAS_GRAD(dx)
        dx = _MM(dx, P[w])
        dim = dx.shape[1] // 2
        # user embedding net (one row) and user loading
        d_pu, found = self._layers_backward(P, ops.sum(dx[:, :dim], 0, keepdim=True),
                                            L.user_layers, user_cache)
        for k, grad in found:
            g[k] = grad
        for i in range(3):
            g[L.user_tables[i]] = _MM_TN(user_oh[i], d_pu[:, i * dim:(i + 1) * dim])
        # item embedding net and item loading
        dx, found = self._layers_backward(P, dx[:, dim:], L.item_layers, item_cache)
        for k, grad in found:
            g[k] = grad
        g[L.rate] = _MM_TN(rate, dx[:, :dim])
        g[L.year] = _MM_TN(year, dx[:, dim:2 * dim])
        d_genre = _SIGMOID_GRAD(genre_s, dx[:, 2 * dim:3 * dim])
        d_director = _SIGMOID_GRAD(director_s, dx[:, 3 * dim:])
        g[L.genre] = _MM_TN(d_genre, genre)
        g[L.director] = _MM_TN(d_director, director)
        return g, out

    def _clip_factor(self, g):
        """PyTorch clip_grad_norm_'s factor min(1, max_norm / (norm + 1e-6))."""
        squares = []
        for k in range(self.n_params):
            flat = g[k].reshape(1, -1)
            squares.append(_MM_NT(flat, flat))     # one kernel per parameter
        total = ops.addn(squares)
        return ops.minimum(self.clip_norm / (ops.sqrt(total) + 1e-6), 1.0)

    @ms.jit
    def gradients(self, *inputs):
        """Unclipped gradients of one batch: inputs are the parameters, the 3 user one-hot
        rows and one (rate, year, genre, director, label) batch. For checking the
        hand-written backward against autodiff."""
        n = self.n_params
        g, _ = self._grads(inputs[:n], (inputs[n], inputs[n + 1], inputs[n + 2]),
                           inputs[n + 3], inputs[n + 4], inputs[n + 5], inputs[n + 6],
                           inputs[n + 7])
        return tuple(g)

    # ---- the whole update -------------------------------------------------------------
    @ms.jit
    def construct(self, *inputs):
        """inputs: the parameters, 3 user one-hot rows, then (rate, year, genre, director,
        label) per support batch, then the same five for the query set."""
        n = self.n_params
        self._reset(inputs)
        user_oh = (inputs[n], inputs[n + 1], inputs[n + 2])
        n_batches = (len(inputs) - n - 3) // 5 - 1
        step = 0
        for _ in range(self.n_loop):
            for bi in range(n_batches):
                o = n + 3 + 5 * bi
                g, _ = self._grads(self.p, user_oh, inputs[o], inputs[o + 1], inputs[o + 2],
                                   inputs[o + 3], inputs[o + 4])
                step += 1
                self._adam_step(g, step, 1.0 / self._clip_factor(g))
        q = n + 3 + 5 * n_batches
        if self.test:
            out, _ = self._forward(self.p, user_oh, inputs[q], inputs[q + 1], inputs[q + 2],
                                   inputs[q + 3])
            return out
        gq, out = self._grads(self.p, user_oh, inputs[q], inputs[q + 1], inputs[q + 2],
                              inputs[q + 3], inputs[q + 4])
        coef = self._clip_factor(gq)
        loss = -ops.sum(inputs[q + 4] * ops.log_softmax(out, -1)) / out.shape[0]
        result = [loss]
        for k in range(n):
            result.append(self.p[k] * 1.0)
        for k in range(n):
            result.append(gq[k] * coef)
        return tuple(result)


# ============================== host side ==============================
class EncodedTask(NamedTuple):
    """A user's inputs for :class:`FastUserUpdate` (NumPy), computed once per user."""
    user_oh: Tuple[np.ndarray, np.ndarray, np.ndarray]
    director_cols: np.ndarray        # the user's director columns, ascending
    support: List[Tuple[np.ndarray, ...]]   # per batch: rate, year, genre, director, label
    query: Tuple[np.ndarray, ...]


def _one_hot(idx, n):
    return np.eye(n, dtype=np.float32)[np.asarray(idx)]


def encode_task(task, sizes: dict, batch_size: int, n_y: int) -> EncodedTask:
    """One-hot and local-director encoding of a :class:`utils.UserTask`."""
    n_genre = sizes['n_genre']
    x1 = task.sup_x1[0] if len(task.sup_x1) else task.que_x1[0]
    user_oh = tuple(_one_hot([x1[i]], sizes[k])
                    for i, k in enumerate(('n_gender', 'n_age', 'n_occupation')))
    all_dir = np.concatenate([task.sup_x2[:, 2 + n_genre:], task.que_x2[:, 2 + n_genre:]])
    cols = np.flatnonzero(all_dir.any(axis=0))
    width = max(DIRECTOR_BUCKET, -(-len(cols) // DIRECTOR_BUCKET) * DIRECTOR_BUCKET)

    def rows(x2, y):
        local = np.zeros((len(x2), width), np.float32)
        local[:, :len(cols)] = x2[:, 2 + n_genre:][:, cols]
        return (_one_hot(x2[:, 0], sizes['n_rate']), _one_hot(x2[:, 1], sizes['n_year']),
                x2[:, 2:2 + n_genre].astype(np.float32), local, _one_hot(y, n_y))

    support = [rows(task.sup_x2[s:s + batch_size], task.sup_y[s:s + batch_size])
               for s in range(0, len(task.sup_y), batch_size)]
    return EncodedTask(user_oh, cols, support, rows(task.que_x2, task.que_y))


class FastEngine:
    """Runs compiled local updates on a ``BASEModel``: reads its parameters, runs one
    graph per user, writes the adapted parameters back."""

    def __init__(self, model, config: dict, sizes: dict, n_y: int):
        self.model = model
        self.params = model.trainable_params()
        self.names = [p.name for p in self.params]
        self.layout = model_layout(self.names)
        self.sizes, self.n_y = sizes, n_y
        self.config = config
        self._cells: Dict[tuple, FastUserUpdate] = {}
        self._encoded: Dict[int, EncodedTask] = {}
        self.weight_index = [self.names.index(p.name) for part in
                             ('user_embedding', 'item_embedding', 'rec_model')
                             for p in model.weight_params(part)]

    def _cell(self, shapes, test: bool) -> FastUserUpdate:
        key = (tuple(shapes), test)
        if key not in self._cells:
            c = self.config
            self._cells[key] = FastUserUpdate(shapes, self.layout, c['active_func'],
                                              AdamHyper(lr=c['rho']), c['n_inner_loop'],
                                              c['clip_norm'], test)
        return self._cells[key]

    def encoded(self, task) -> EncodedTask:
        if task.user_id not in self._encoded:
            self._encoded[task.user_id] = encode_task(task, self.sizes,
                                                      self.config['batch_size'], self.n_y)
        return self._encoded[task.user_id]

    def _run(self, task, test: bool):
        enc = self.encoded(task)
        values = [p.asnumpy() for p in self.params]
        d = self.layout.director
        full_director = values[d]
        local = np.zeros((full_director.shape[0], enc.support[0][3].shape[1]), np.float32)
        local[:, :len(enc.director_cols)] = full_director[:, enc.director_cols]
        values[d] = local
        arrays = values + list(enc.user_oh) + [a for batch in enc.support for a in batch] + \
            list(enc.query)
        cell = self._cell([v.shape for v in values], test)
        return cell(*[ms.Tensor(a) for a in arrays]), full_director, enc

    def train(self, task):
        """Adapt the model to ``task`` (in place); returns (clipped query gradients of the
        weight matrices as NumPy arrays, query loss)."""
        outputs, full_director, enc = self._run(task, test=False)
        loss = float(outputs[0].asnumpy())
        n = len(self.params)
        adapted = [o.asnumpy() for o in outputs[1:1 + n]]
        d = self.layout.director
        full_director[:, enc.director_cols] = adapted[d][:, :len(enc.director_cols)]
        adapted[d] = full_director
        for param, value in zip(self.params, adapted):
            param.set_data(ms.Tensor(value))
        grads = [outputs[1 + n + k].asnumpy() for k in self.weight_index]
        return grads, loss

    def test(self, task) -> np.ndarray:
        """Query class probabilities after adapting to ``task``; the model is unchanged."""
        outputs, _, _ = self._run(task, test=True)
        return outputs.asnumpy()

    def test_many(self, tasks, overrides, batch: int) -> List[np.ndarray]:
        """Query probabilities of several users, adapted ``batch`` at a time; user i starts
        from the model's parameters with ``overrides[i]`` ({name: value}) applied. The
        model is unchanged. Users are grouped by input shapes; a short group is padded by
        repeating its last user (whose extra results are dropped), so each shape
        compiles once."""
        base = [p.asnumpy() for p in self.params]
        index = {name: k for k, name in enumerate(self.names)}
        d = self.layout.director
        groups: Dict[tuple, List[int]] = {}
        for i, task in enumerate(tasks):
            enc = self.encoded(task)
            key = (tuple(len(b[4]) for b in enc.support), len(enc.query[4]),
                   enc.support[0][3].shape[1])
            groups.setdefault(key, []).append(i)
        results: List[Optional[np.ndarray]] = [None] * len(tasks)
        for members in groups.values():
            for start in range(0, len(members), batch):
                chunk = members[start:start + batch]
                padded = chunk + [chunk[-1]] * (batch - len(chunk))
                per_user = []
                for i in padded:
                    enc = self.encoded(tasks[i])
                    values = list(base)
                    for name, value in overrides[i].items():
                        values[index[name]] = value
                    local = np.zeros((base[d].shape[0], enc.support[0][3].shape[1]), np.float32)
                    local[:, :len(enc.director_cols)] = base[d][:, enc.director_cols]
                    values[d] = local
                    per_user.append(values + list(enc.user_oh) +
                                    [a for b in enc.support for a in b] + list(enc.query))
                stacked = [np.stack(column) for column in zip(*per_user)]
                cell = self._batch_cell([a.shape for a in stacked[:len(base)]])
                out = cell(*[ms.Tensor(a) for a in stacked]).asnumpy()
                for j, i in enumerate(chunk):
                    results[i] = out[j]
        return results

    def _batch_cell(self, shapes) -> 'FastBatchTest':
        key = ('batch', tuple(shapes))
        if key not in self._cells:
            c = self.config
            self._cells[key] = FastBatchTest(shapes, self.layout, c['active_func'],
                                             AdamHyper(lr=c['rho']), c['n_inner_loop'],
                                             c['clip_norm'])
        return self._cells[key]


# ============================== batched testing ==============================
_BMM = ops.BatchMatMul()
_BMM_NT = ops.BatchMatMul(transpose_b=True)
_BMM_TN = ops.BatchMatMul(transpose_a=True)


def _bdense(x, w, b):
    return _BMM_NT(x, w) + ops.expand_dims(b, 1)


class FastBatchTest(_CompiledAdam):
    """:class:`FastUserUpdate`'s test pass for B users at once (test users are independent:
    each starts from its own personalised parameters). Every tensor has a leading user
    axis; each user's gradient is clipped by its own global norm."""

    def _stack(self, P, x, layers):
        cache = []
        for w, b in layers:
            a, slope = self.act(_bdense(x, P[w], P[b]))
            cache.append((x, slope))
            x = a
        return x, cache

    def _unstack(self, P, dx, layers, cache):
        found = []
        for k in range(len(layers) - 1, -1, -1):
            w, b = layers[k]
            x_in, slope = cache[k]
            dz = dx * slope
            found += [(w, _BMM_TN(dz, x_in)), (b, ops.sum(dz, 1))]
            dx = _BMM(dz, P[w])
        return dx, found

    def _forward(self, P, user_oh, rate, year, genre, director):
        L = self.layout
        n = rate.shape[1]
        pu = ops.concat([_BMM(user_oh[i], P[L.user_tables[i]]) for i in range(3)], 2)
        eu, user_cache = self._stack(P, pu, L.user_layers)
        genre_s = ops.sigmoid(_BMM_NT(genre, P[L.genre]))
        director_s = ops.sigmoid(_BMM_NT(director, P[L.director]))
        pi = ops.concat((_BMM(rate, P[L.rate]), _BMM(year, P[L.year]), genre_s, director_s), 2)
        ei, item_cache = self._stack(P, pi, L.item_layers)
        x = ops.concat((ops.broadcast_to(eu, (eu.shape[0], n, eu.shape[2])), ei), 2)
        h = _bdense(x, P[L.mem_layer[0]], P[L.mem_layer[1]])
        last, hidden_cache = self._stack(P, h, L.rec_layers[:-1])
        w, b = L.rec_layers[-1]
        out = ops.softmax(_bdense(last, P[w], P[b]), -1)
        return out, (user_cache, genre_s, director_s, item_cache, x, hidden_cache, last)

    def _grads(self, P, user_oh, rate, year, genre, director, label):
        L = self.layout
        out, (user_cache, genre_s, director_s, item_cache, x_cat, hidden_cache, last) = \
            self._forward(P, user_oh, rate, year, genre, director)
        g = [None] * self.n_params
        d_out = (ops.softmax(out, -1) - label) / rate.shape[1]
        dz = out * (d_out - ops.sum(d_out * out, -1, keepdim=True))
        w, b = L.rec_layers[-1]
        g[w], g[b] = _BMM_TN(dz, last), ops.sum(dz, 1)
        dx, found = self._unstack(P, _BMM(dz, P[w]), L.rec_layers[:-1], hidden_cache)
        for k, grad in found:
            g[k] = grad
        w, b = L.mem_layer
        g[w], g[b] = _BMM_TN(dx, x_cat), ops.sum(dx, 1)
        dx = _BMM(dx, P[w])
        dim = dx.shape[2] // 2
        d_pu, found = self._unstack(P, ops.sum(dx[:, :, :dim], 1, keepdim=True),
                                    L.user_layers, user_cache)
        for k, grad in found:
            g[k] = grad
        for i in range(3):
            g[L.user_tables[i]] = _BMM_TN(user_oh[i], d_pu[:, :, i * dim:(i + 1) * dim])
        dx, found = self._unstack(P, dx[:, :, dim:], L.item_layers, item_cache)
        for k, grad in found:
            g[k] = grad
        g[L.rate] = _BMM_TN(rate, dx[:, :, :dim])
        g[L.year] = _BMM_TN(year, dx[:, :, dim:2 * dim])
        g[L.genre] = _BMM_TN(_SIGMOID_GRAD(genre_s, dx[:, :, 2 * dim:3 * dim]), genre)
        g[L.director] = _BMM_TN(_SIGMOID_GRAD(director_s, dx[:, :, 3 * dim:]), director)
        return g

    def _clipped(self, g):
        """Each user's gradients times min(1, max_norm / (its global norm + 1e-6))."""
        total = None
        for k in range(self.n_params):
            sq = ops.sum((g[k] * g[k]).reshape(g[k].shape[0], -1), 1)
            total = sq if total is None else total + sq
        coef = ops.minimum(self.clip_norm / (ops.sqrt(total) + 1e-6), 1.0)
        out = []
        for k in range(self.n_params):
            out.append(g[k] * coef.reshape((-1,) + (1,) * (g[k].ndim - 1)))
        return out

    @ms.jit
    def construct(self, *inputs):
        """As :meth:`FastUserUpdate.construct` (test), every input with a user axis."""
        n = self.n_params
        self._reset(inputs)
        user_oh = (inputs[n], inputs[n + 1], inputs[n + 2])
        n_batches = (len(inputs) - n - 3) // 5 - 1
        step = 0
        for _ in range(self.n_loop):
            for bi in range(n_batches):
                o = n + 3 + 5 * bi
                g = self._clipped(self._grads(self.p, user_oh, inputs[o], inputs[o + 1],
                                              inputs[o + 2], inputs[o + 3], inputs[o + 4]))
                step += 1
                self._adam_step(g, step, 1.0)
        q = n + 3 + 5 * n_batches
        out, _ = self._forward(self.p, user_oh, inputs[q], inputs[q + 1], inputs[q + 2],
                               inputs[q + 3])
        return out
