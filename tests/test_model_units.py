"""The model's pieces against hand-computed NumPy: shapes, forward, one local step,
memories, the meta-update and the metrics."""
import math

import mindspore as ms
import numpy as np
import pytest

from configs import config_settings
from models import LOCALUpdate, build_model, maml_train
from modules.memories import FeatureMem, TaskMem, attention, cosine_similarity
from utils import mae, ndcg_at_k, ndcg_clips, scenario_metrics, support_mean_prediction, \
    train_test_split

EXPECTED_SHAPES = [
    ('input_user_loading.embedding_gender.embedding_table', (2, 100)),
    ('input_user_loading.embedding_age.embedding_table', (7, 100)),
    ('input_user_loading.embedding_occupation.embedding_table', (21, 100)),
    ('input_item_loading.emb_rate.embedding_table', (6, 100)),
    ('input_item_loading.emb_genre.weight', (100, 25)),
    ('input_item_loading.emb_director.weight', (100, 2186)),
    ('input_item_loading.emb_year.embedding_table', (81, 100)),
    ('user_embedding.fc.0.weight', (150, 300)), ('user_embedding.fc.0.bias', (150,)),
    ('user_embedding.final_layer.0.weight', (100, 150)),
    ('user_embedding.final_layer.0.bias', (100,)),
    ('item_embedding.fc.0.weight', (200, 400)), ('item_embedding.fc.0.bias', (200,)),
    ('item_embedding.final_layer.0.weight', (100, 200)),
    ('item_embedding.final_layer.0.bias', (100,)),
    ('rec_model.mem_layer.weight', (200, 200)), ('rec_model.mem_layer.bias', (200,)),
    ('rec_model.fc.0.weight', (100, 200)), ('rec_model.fc.0.bias', (100,)),
    ('rec_model.final_layer.0.weight', (5, 100)), ('rec_model.final_layer.0.bias', (5,)),
]

SMALL = {'n_gender': 2, 'n_age': 3, 'n_occupation': 4, 'n_rate': 3, 'n_year': 5,
         'n_genre': 4, 'n_director': 6}


def small_model(dim=4, seed=0):
    return build_model(dict(config_settings, embedding_dim=dim), SMALL, seed=seed)


def random_user(rng, n=20, sizes=SMALL):
    x1 = np.tile([[1, 2, 3]], (n, 1)).astype(np.int32)
    x2 = np.zeros((n, 2 + sizes['n_genre'] + sizes['n_director']), np.int32)
    x2[:, 0] = rng.integers(0, sizes['n_rate'], n)
    x2[:, 1] = rng.integers(0, sizes['n_year'], n)
    for r in range(n):
        x2[r, 2 + rng.integers(0, sizes['n_genre'])] = 1
        x2[r, 2 + sizes['n_genre'] + rng.integers(0, sizes['n_director'], 2)] = 1
    y = rng.integers(0, 5, n).astype(np.int32)
    return x1, x2, y


# ---------------------------------------------------------------- NumPy reference model
def leaky(x):
    return np.where(x > 0, x, 0.1 * x)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def numpy_forward(p, x1, x2, n_genre):
    """The published model written out: loading, embeddings, recommender, softmax."""
    sig = lambda z: 1 / (1 + np.exp(-z))
    pre = 'input_user_loading.'
    pu = np.concatenate([p[pre + 'embedding_gender.embedding_table'][x1[:, 0]],
                         p[pre + 'embedding_age.embedding_table'][x1[:, 1]],
                         p[pre + 'embedding_occupation.embedding_table'][x1[:, 2]]], 1)
    pre = 'input_item_loading.'
    genre = x2[:, 2:2 + n_genre].astype(float)
    director = x2[:, 2 + n_genre:].astype(float)
    pi = np.concatenate([p[pre + 'emb_rate.embedding_table'][x2[:, 0]],
                         p[pre + 'emb_year.embedding_table'][x2[:, 1]],
                         sig(genre @ p[pre + 'emb_genre.weight'].T),
                         sig(director @ p[pre + 'emb_director.weight'].T)], 1)

    def dense(x, name):
        return x @ p[name + '.weight'].T + p[name + '.bias']

    eu = leaky(dense(leaky(dense(pu, 'user_embedding.fc.0')), 'user_embedding.final_layer.0'))
    ei = leaky(dense(leaky(dense(pi, 'item_embedding.fc.0')), 'item_embedding.final_layer.0'))
    h = dense(np.concatenate([eu, ei], 1), 'rec_model.mem_layer')
    h = leaky(dense(h, 'rec_model.fc.0'))
    return softmax(dense(h, 'rec_model.final_layer.0'))


# ---------------------------------------------------------------- structure
def test_parameter_names_and_shapes_match_the_reference():
    model = build_model(config_settings)
    got = [(name, tuple(p.shape)) for name, p in model.parameters_and_names()]
    assert got == EXPECTED_SHAPES


def test_initialisation_is_pytorch_like_and_seeded():
    model = build_model(config_settings, seed=5)
    p = model.get_parameters_dict()
    assert np.all(p['user_embedding.fc.0.bias'] == 0) and np.all(p['item_embedding.fc.0.bias'] == 0)
    w = p['item_embedding.fc.0.weight']
    assert np.abs(w).max() <= 1 / math.sqrt(400) and np.abs(w).max() > 0.9 / math.sqrt(400)
    table = p['input_item_loading.emb_year.embedding_table']
    assert 0.9 < table.std() < 1.1                      # N(0, 1) like torch.nn.Embedding
    again = build_model(config_settings, seed=5).get_parameters_dict()
    assert all(np.array_equal(p[k], again[k]) for k in p)


def test_parameters_dict_round_trip_and_unknown_names():
    model = small_model()
    values = {k: np.full_like(v, 0.25) for k, v in model.get_parameters_dict().items()}
    model.set_parameters_dict(values)
    assert all(np.all(v == 0.25) for v in model.get_parameters_dict().values())
    with pytest.raises(KeyError):
        model.set_parameters_dict({'no.such.weight': np.zeros(1)})


def test_forward_matches_numpy():
    rng = np.random.default_rng(0)
    model = small_model()
    params = {k: rng.normal(0, 0.5, v.shape).astype(np.float32)
              for k, v in model.get_parameters_dict().items()}
    model.set_parameters_dict(params)
    x1, x2, _ = random_user(rng, 7)
    got = model(ms.Tensor(x1), ms.Tensor(x2)).asnumpy()
    want = numpy_forward(params, x1, x2, SMALL['n_genre'])
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(got.sum(1), 1, atol=1e-6)


def _clipped_numpy_grads(lu, x1, x2, y, max_norm):
    _, grads = lu._grad_fn(ms.Tensor(x1), ms.Tensor(x2), ms.Tensor(y))
    grads = {p.name: g.asnumpy().astype(np.float64) for p, g in zip(lu.params, grads)}
    norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
    assert norm > max_norm                              # the test exercises the clipping
    return {k: g * max_norm / (norm + 1e-6) for k, g in grads.items()}


def test_two_local_steps_are_clipped_adam():
    """Two support batches: each clipped to the global norm (PyTorch's +1e-6), then
    PyTorch's Adam (bias corrections, eps outside the corrected square root)."""
    rng = np.random.default_rng(1)
    model = small_model()
    params = {k: rng.normal(0, 0.5, v.shape).astype(np.float32)
              for k, v in model.get_parameters_dict().items()}
    x1, x2, y = random_user(rng, 15)
    max_norm = 0.05                                     # small, so that clipping is active
    lu = LOCALUpdate(model, x1[:10], x2[:10], y[:10], x1[10:], x2[10:], y[10:], bt_size=5,
                     n_loop=1, update_lr=0.01, clip_norm=max_norm)
    want = {k: v.astype(np.float64) for k, v in params.items()}
    m = {k: 0.0 for k in want}
    v = {k: 0.0 for k in want}
    for step, rows in ((1, slice(0, 5)), (2, slice(5, 10))):
        model.set_parameters_dict(want)
        grads = _clipped_numpy_grads(lu, x1[rows], x2[rows], y[rows], max_norm)
        for k, g in grads.items():
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g * g
            denom = np.sqrt(v[k]) / math.sqrt(1 - 0.999 ** step) + 1e-8
            want[k] = want[k] - (0.01 / (1 - 0.9 ** step)) * m[k] / denom
    model.set_parameters_dict(params)
    lu._adapt()
    got = model.get_parameters_dict()
    for name in want:
        np.testing.assert_allclose(got[name], want[name], atol=2e-6, err_msg=name)


def test_query_gradients_are_clipped_to_the_global_norm():
    rng = np.random.default_rng(3)
    model = small_model()
    x1, x2, y = random_user(rng, 10)
    lu = LOCALUpdate(model, x1[:5], x2[:5], y[:5], x1[5:], x2[5:], y[5:], bt_size=5,
                     n_loop=0, update_lr=0.01, clip_norm=0.01)
    want = _clipped_numpy_grads(lu, x1[5:], x2[5:], y[5:], 0.01)
    u, i, r = lu.train()
    names = [p.name for part in ('user_embedding', 'item_embedding', 'rec_model')
             for p in model.weight_params(part)]
    for name, g in zip(names, u + i + r):
        np.testing.assert_allclose(g.asnumpy(), want[name], atol=1e-7, err_msg=name)


def test_train_returns_clipped_query_gradients_of_phi():
    rng = np.random.default_rng(2)
    model = small_model()
    x1, x2, y = random_user(rng)
    lu = LOCALUpdate(model, x1[:15], x2[:15], y[:15], x1[15:], x2[15:], y[15:], 5, 3, 0.01)
    u, i, r = lu.train()
    assert [g.shape for g in u] == [w.shape for w in model.get_weights()[0]]
    assert len(i) == 2 and len(r) == 3 and np.isfinite(lu.last_query_loss)
    total = sum(float((g.asnumpy() ** 2).sum()) for g in u + i + r)
    assert math.sqrt(total) <= 5.0 + 1e-4


# ---------------------------------------------------------------- memories
def test_cosine_similarity_adds_1e5_per_element_inside_the_norms():
    p_u = np.array([3.0, 4.0], np.float32)
    rows = np.array([[3.0, 4.0], [0.0, 2.0]], np.float32)
    got = cosine_similarity(p_u, rows)
    want = [25 / (math.sqrt(25 + 2e-5) * math.sqrt(25 + 2e-5)),
            8 / (math.sqrt(25 + 2e-5) * math.sqrt(4 + 2e-5))]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_attention_is_softmax_of_cosine_similarities():
    p_u = np.array([1.0, 0.0], np.float32)
    memory = np.array([[2.0, 0.0], [0.0, 5.0], [-1.0, 0.0]], np.float32)
    e = np.exp([1.0, 0.0, -1.0])                        # cosines, up to the 1e-5 terms
    np.testing.assert_allclose(attention(p_u, memory), e / e.sum(), rtol=1e-4)


def test_feature_memory_read_write_by_hand():
    mem = FeatureMem(2, 2, [(1, 2)], np.random.default_rng(0))
    mem.p_memory = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    mem.u_memory = [[np.array([[1.0, 2.0]], np.float32)], [np.array([[3.0, 4.0]], np.float32)]]
    p_u = np.array([1.0, 1.0], np.float32)             # equally close to both slots
    bias, att = mem.read_head(p_u, alpha=0.5)
    np.testing.assert_allclose(att, [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(bias[0], [[2.0, 3.0]], atol=1e-6)
    np.testing.assert_allclose(mem.p_memory, [[0.75, 0.25], [0.25, 0.75]], atol=1e-6)
    mem.write_head(att, [np.array([[10.0, 20.0]], np.float32)], lr=0.1)
    np.testing.assert_allclose(mem.u_memory[0][0], [[0.1 * 0.5 * 10 + 0.9 * 1, 0.1 * 0.5 * 20 + 0.9 * 2]])
    np.testing.assert_allclose(mem.u_memory[1][0], [[0.5 + 0.9 * 3, 1.0 + 0.9 * 4]])
    before = mem.p_memory.copy()
    mem.read_head(p_u, alpha=0.5, train=False)         # testing reads only
    np.testing.assert_array_equal(mem.p_memory, before)


def test_feature_memory_slots_are_independent():
    mem = FeatureMem(3, 6, [(4, 6), (2, 4)], np.random.default_rng(0))
    assert not np.array_equal(mem.u_memory[0][0], mem.u_memory[1][0])
    assert 0.03 < np.std(np.concatenate([s[0].ravel() for s in mem.u_memory])) < 0.07


def test_task_memory_read_write_by_hand():
    mem = TaskMem(2, 1, np.random.default_rng(0))      # slots of shape (2, 2)
    mem.memory_UI = np.stack([np.eye(2), 2 * np.ones((2, 2))]).astype(np.float32)
    att = np.array([0.25, 0.75], np.float32)
    np.testing.assert_allclose(mem.read_head(att), [[1.75, 1.5], [1.5, 1.75]])
    mem.write_head(att, np.full((2, 2), 4.0, np.float32), lr=0.1)
    np.testing.assert_allclose(mem.memory_UI[0], 0.1 * 0.25 * 4 + 0.9 * np.eye(2), atol=1e-6)
    np.testing.assert_allclose(mem.memory_UI[1], np.full((2, 2), 0.1 * 0.75 * 4 + 0.9 * 2), atol=1e-6)


def test_personalised_initialisation_and_global_update():
    model = small_model()
    phi_u, phi_i, phi_r = model.get_weights()
    bias = [np.ones_like(w) for w in phi_u]
    model.init_u_mem_weights(phi_u, bias, 0.5, phi_i, phi_r)
    got = model.get_weights()
    np.testing.assert_allclose(got[0][0], phi_u[0] - 0.5, atol=1e-7)
    task = TaskMem(2, 4, np.random.default_rng(0))
    model.init_ui_mem_weights(np.array([1.0, 0.0], np.float32), task)
    np.testing.assert_array_equal(model.get_ui_mem_weights()[0], task.memory_UI[0])
    grads = [[np.full_like(w, 2.0) for w in ws] for ws in (phi_u, phi_i, phi_r)]
    new_u, _, new_r = maml_train(phi_u, phi_i, phi_r, *grads, 0.05)
    np.testing.assert_allclose(new_u[1], phi_u[1] - 0.1, atol=1e-7)
    np.testing.assert_allclose(new_r[2], phi_r[2] - 0.1, atol=1e-7)


# ---------------------------------------------------------------- metrics and split
def test_mae_by_hand():
    assert mae(np.array([1, 2, 3]), np.array([1, 3, 5])) == 1.0
    assert math.isnan(mae(np.array([]), np.array([])))


def test_ndcg_by_hand_with_ties_kept_in_order():
    # prediction order (stable): item 2 (pred 5), item 0 (pred 3), item 1 (pred 3)
    got = ndcg_at_k(np.array([5, 3, 4]), np.array([3, 3, 5]))
    want = (15 + 31 / math.log2(3) + 7 / 2) / (31 + 15 / math.log2(3) + 7 / 2)
    assert got == pytest.approx(want, rel=1e-12)
    # all predictions tied: the given order is the ranking
    got = ndcg_at_k(np.array([1, 5, 2, 4]), np.array([3, 3, 3, 3]))
    want = (1 + 31 / math.log2(3) + 3 / 2) / (31 + 15 / math.log2(3) + 3 / 2)
    assert got == pytest.approx(want, rel=1e-12)
    assert ndcg_at_k(np.array([2, 4, 1]), np.array([2, 4, 1])) == 1.0


def test_ndcg_clips_of_five_and_a_short_last_clip():
    y = np.array([5, 4, 3, 2, 1, 1, 5])
    y_hat = np.array([5, 4, 3, 2, 1, 5, 1])
    first = 1.0                                         # perfectly ranked
    second = 1 / (31 + 1 / math.log2(3))                # item with y=1 ranked above y=5
    second *= (1 + 31 / math.log2(3))
    assert ndcg_clips(y, y_hat) == pytest.approx((first + second) / 2, rel=1e-12)


def test_scenario_metrics_split_by_code():
    y = np.array([5, 4, 3, 2, 1, 3])
    y_hat = np.array([5, 5, 3, 1, 1, 3])
    codes = np.array([0, 0, 1, 1, 3, 0])
    out = scenario_metrics(y, y_hat, codes)
    assert out['W-W']['n'] == 3 and out['W-W']['mae'] == pytest.approx(1 / 3)
    assert out['W-C']['mae'] == pytest.approx(0.5)
    assert out['C-W']['n'] == 0 and math.isnan(out['C-W']['mae'])
    assert out['all']['n'] == 6 and out['all']['mae'] == pytest.approx(2 / 6)


def test_support_mean_baseline_rounds_half_up():
    assert support_mean_prediction(np.array([3, 4]), 2).tolist() == [4, 4]
    assert support_mean_prediction(np.array([1, 1, 2]), 1).tolist() == [1]


def test_split_is_seeded_and_covers_every_user():
    train, test = train_test_split(10, 0.8, seed=4)
    assert sorted(train + test) == list(range(10)) and len(train) == 8
    assert (train, test) == train_test_split(10, 0.8, seed=4)
    assert train != train_test_split(10, 0.8, seed=5)[0]
