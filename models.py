"""MAMO's whole model, its local update, and the meta-update.

``BASEModel`` chains the Cells; ``LOCALUpdate`` adapts it to one user (reference
semantics: a fresh Adam over every parameter, global-norm clipping, then the clipped
query gradient); ``maml_train`` applies the global update; ``user_mem_init`` reads the
feature memory for a user.
"""

from typing import Dict, List, Optional

import mindspore as ms
import numpy as np
from mindspore import nn, ops

from utils import AdamHyper, UserTask, clip_coefficient, make_task, torch_linear_init, \
    update_parameters


class BASEModel(nn.Cell):
    """User/item loading -> user/item embedding -> recommender."""

    def __init__(self, input1_module, input2_module, embedding1_module, embedding2_module,
                 rec_module):
        super().__init__()
        self.input_user_loading = input1_module
        self.input_item_loading = input2_module
        self.user_embedding = embedding1_module
        self.item_embedding = embedding2_module
        self.rec_model = rec_module

    def construct(self, x1, x2):
        pu, pi = self.input_user_loading(x1), self.input_item_loading(x2)
        eu, ei = self.user_embedding(pu), self.item_embedding(pi)
        return self.rec_model(eu, ei)

    # ---- parameters as {name: numpy array} ------------------------------------------
    def get_parameters_dict(self) -> Dict[str, np.ndarray]:
        """Every parameter's current value, by name (copies)."""
        return {p.name: p.asnumpy().copy() for p in self.trainable_params()}

    def set_parameters_dict(self, values: Dict[str, np.ndarray]):
        """Set parameters by name; every name must exist and every shape must match."""
        params = {p.name: p for p in self.trainable_params()}
        unknown = sorted(set(values) - set(params))
        if unknown:
            raise KeyError(f'unknown parameter names: {unknown}')
        for name, value in values.items():
            _assign(params[name], value)

    def init_torch_like(self, seed: int):
        """Initialise as PyTorch would (Linear: U(+-1/sqrt(fan_in)); Embedding: N(0, 1);
        the embedding nets' hidden biases 0), from a seeded NumPy generator."""
        rng = np.random.default_rng(seed)
        for cell_name, cell in self.cells_and_names():
            if isinstance(cell, nn.Embedding):
                table = cell.embedding_table
                _assign(table, rng.standard_normal(table.shape))
            elif isinstance(cell, nn.Dense):
                out_dim, in_dim = cell.weight.shape
                weight, bias = torch_linear_init(rng, out_dim, in_dim)
                _assign(cell.weight, weight)
                if cell.has_bias:
                    zero_bias = cell_name.startswith(('user_embedding.fc', 'item_embedding.fc'))
                    _assign(cell.bias, np.zeros_like(bias) if zero_bias else bias)

    # ---- the meta-learned weights phi (weight matrices of the three nets) -------------
    def weight_params(self, part: str) -> List[ms.Parameter]:
        """The weight matrices (not biases) of ``user_embedding``, ``item_embedding`` or
        ``rec_model``, in definition order: the reference's phi_u, phi_i, phi_r."""
        return [p for p in getattr(self, part).trainable_params() if p.name.endswith('.weight')]

    def get_weights(self):
        """Copies of (phi_u, phi_i, phi_r) as lists of NumPy arrays."""
        return tuple([p.asnumpy().copy() for p in self.weight_params(part)]
                     for part in ('user_embedding', 'item_embedding', 'rec_model'))

    def get_zero_weights(self):
        """Zero arrays shaped like (phi_u, phi_i, phi_r)."""
        return tuple([np.zeros_like(w) for w in ws] for ws in self.get_weights())

    def init_weights(self, u_emb_para, i_emb_para, rec_para):
        """Set the three nets' weight matrices (biases untouched)."""
        for part, values in zip(('user_embedding', 'item_embedding', 'rec_model'),
                                (u_emb_para, i_emb_para, rec_para)):
            for param, value in zip(self.weight_params(part), values):
                _assign(param, value)

    def init_u_mem_weights(self, u_emb_para, mu, tao, i_emb_para, rec_para):
        """theta_u <- phi_u - tao * b_u; theta_i <- phi_i; theta_r <- phi_r."""
        personal_u = [w - tao * b for w, b in zip(u_emb_para, mu)]
        self.init_weights(personal_u, i_emb_para, rec_para)

    def init_ui_mem_weights(self, att_values, task_mem):
        """The memory layer's weight <- the task memory read with the user's attention."""
        _assign(self.rec_model.mem_layer.weight, task_mem.read_head(att_values))

    def get_ui_mem_weights(self):
        """[memory-layer weight] as a NumPy array."""
        return [self.rec_model.mem_layer.weight.asnumpy().copy()]


def _assign(param: ms.Parameter, value):
    param.set_data(ms.Tensor(np.asarray(value, dtype=np.float32)))


class LOCALUpdate:
    """Adapt ``model`` to one user's support set, then take the query gradient or predict.

    Plain path: MindSpore's PyNative autodiff over the Cells, one Adam step per support
    batch. Built from in-memory arrays (``y`` as class indices) or from a prepared sample
    (:meth:`from_sample`).
    """

    def __init__(self, your_model: BASEModel, sup_x1, sup_x2, sup_y, que_x1, que_x2, que_y,
                 bt_size: int, n_loop: int, update_lr: float, clip_norm: float = 5.0):
        self.model = your_model
        self.support = [np.asarray(a, dtype=np.int32) for a in (sup_x1, sup_x2, sup_y)]
        self.query = [np.asarray(a, dtype=np.int32) for a in (que_x1, que_x2, que_y)]
        self.batch_size = bt_size
        self.n_loop = n_loop
        self.adam = AdamHyper(lr=update_lr)
        self.clip_norm = clip_norm
        self.loss_fn = nn.CrossEntropyLoss()
        self.params = self.model.trainable_params()
        self._grad_fn = ms.value_and_grad(self._loss, None, self.params)
        self.last_query_loss: Optional[float] = None

    @classmethod
    def from_task(cls, model, task: UserTask, bt_size, n_loop, update_lr, clip_norm=5.0):
        """From a :class:`utils.UserTask`."""
        return cls(model, task.sup_x1, task.sup_x2, task.sup_y, task.que_x1, task.que_x2,
                   task.que_y, bt_size, n_loop, update_lr, clip_norm)

    @classmethod
    def from_sample(cls, model, sample, sup_size, que_size, bt_size, n_loop, update_lr,
                    clip_norm=5.0):
        """From one user of ``prepare_data.load_samples`` (ratings 1..5)."""
        return cls.from_task(model, make_task(sample, sup_size, que_size), bt_size, n_loop,
                             update_lr, clip_norm)

    def _loss(self, x1, x2, y):
        return self.loss_fn(self.model(x1, x2), y)

    def _clipped_grads(self, x1, x2, y):
        loss, grads = self._grad_fn(ms.Tensor(x1), ms.Tensor(x2), ms.Tensor(y))
        sq_norms = [float(ops.sum(g * g).asnumpy()) for g in grads]
        coef = clip_coefficient(float(np.sqrt(np.sum(sq_norms))), self.clip_norm)
        return float(loss.asnumpy()), [g * coef for g in grads]

    def _adapt(self):
        """The local update: n_loop passes over the support set, in order, no shuffle."""
        m = [ops.zeros_like(p) for p in self.params]
        v = [ops.zeros_like(p) for p in self.params]
        b1, b2, eps = self.adam.beta1, self.adam.beta2, self.adam.eps
        x1, x2, y = self.support
        step = 0
        for _ in range(self.n_loop):
            for start in range(0, len(y), self.batch_size):
                batch = slice(start, start + self.batch_size)
                _, grads = self._clipped_grads(x1[batch], x2[batch], y[batch])
                step += 1
                step_size, bc2_sqrt = self.adam.step_scalars(step)
                for k, (p, g) in enumerate(zip(self.params, grads)):
                    m[k] = m[k] + (1 - b1) * (g - m[k])   # torch: exp_avg.lerp_(grad, 1 - b1)
                    v[k] = v[k] * b2 + (1 - b2) * g * g
                    denom = ops.sqrt(v[k]) / bc2_sqrt + eps
                    p.set_data(p - step_size * m[k] / denom)

    def train(self):
        """Adapt, then return the clipped query gradients of (phi_u, phi_i, phi_r)."""
        self._adapt()
        loss, grads = self._clipped_grads(*self.query)
        self.last_query_loss = loss
        by_name = {p.name: g for p, g in zip(self.params, grads)}
        return tuple([by_name[p.name] for p in self.model.weight_params(part)]
                     for part in ('user_embedding', 'item_embedding', 'rec_model'))

    def test(self) -> np.ndarray:
        """Adapt, then return the query set's class probabilities ``(n_query, n_y)``."""
        self._adapt()
        x1, x2, _ = self.query
        return self.model(ms.Tensor(x1), ms.Tensor(x2)).asnumpy()


def maml_train(raw_phi_u, raw_phi_i, raw_phi_r, u_grad_list, i_grad_list, r_grad_list,
               global_lr):
    """Global update phi <- phi - global_lr * (summed query gradients)."""
    return (update_parameters(raw_phi_u, u_grad_list, global_lr),
            update_parameters(raw_phi_i, i_grad_list, global_lr),
            update_parameters(raw_phi_r, r_grad_list, global_lr))


def user_profile(loading_model, x1_row) -> np.ndarray:
    """p_u: the user loading layer's output for one user's features (D,)."""
    x1 = ms.Tensor(np.asarray(x1_row, dtype=np.int32).reshape(1, -1))
    return loading_model(x1).asnumpy()[0]


def user_mem_init(x1_row, feature_mem, loading_model, alpha, train=True):
    """Read the feature memory for a user: (personalised bias term b_u, attention a_u).

    In training the profile memory is updated by the read (reference semantics).
    """
    return feature_mem.read_head(user_profile(loading_model, x1_row), alpha, train=train)


def build_model(config: dict, feature_sizes: Optional[dict] = None, dataset='movielens',
                seed: Optional[int] = None) -> BASEModel:
    """The MAMO network for ``dataset`` sized from ``feature_sizes`` (the prepared data's
    cardinalities; the reference's values when omitted), initialised from ``seed``."""
    from modules.info_embedding import ItemEmbedding, UserEmbedding
    from modules.input_loading import BKItemLoading, BKUserLoading, MLItemLoading, \
        MLUserLoading
    from modules.rec_model import RecMAM
    from utils import DATASET_INFO, DEFAULT_FEATURE_SIZES

    sizes = dict(DEFAULT_FEATURE_SIZES[dataset], **(feature_sizes or {}))
    info = DATASET_INFO[dataset]
    dim, n_layer, act = config['embedding_dim'], config['n_layer'], config['active_func']
    if dataset == 'movielens':
        user_loading = MLUserLoading(dim, sizes['n_gender'], sizes['n_age'],
                                     sizes['n_occupation'])
        item_loading = MLItemLoading(dim, sizes['n_rate'], sizes['n_genre'],
                                     sizes['n_director'], sizes['n_year'])
    else:
        user_loading = BKUserLoading(dim, sizes['n_age_bk'], sizes['n_location'])
        item_loading = BKItemLoading(dim, sizes['n_year_bk'], sizes['n_author'],
                                     sizes['n_publisher'])
    model = BASEModel(user_loading, item_loading,
                      UserEmbedding(n_layer, info['u_in_dim'] * dim, dim, activation=act),
                      ItemEmbedding(n_layer, info['i_in_dim'] * dim, dim, activation=act),
                      RecMAM(dim, info['n_y'], n_layer, activation=act))
    model.init_torch_like(config['seed'] if seed is None else seed)
    return model
