"""The compiled local update against the plain (PyNative autodiff) one.

The local update is ill-conditioned in float32 at the reference's settings: Adam's early
steps move each weight by about rho * sign(gradient), so gradient elements near zero
flip sign on rounding noise, and the double softmax saturates within a few steps (see
README, "Numerical agreement"). The comparisons therefore use single steps, or rho=1e-3
where the trajectory is well-conditioned, as the checks of the two paths' arithmetic.
"""
import json

import mindspore as ms
import numpy as np
import pytest

from configs import config_settings
from mamorec import MAMRec
from models import LOCALUpdate, build_model
from modules.fast_update import FastEngine, model_layout
from prepare_data import load_feature_sizes, load_samples
from utils import ML_FEATURE_SIZES, UserTask

SIZES = dict(ML_FEATURE_SIZES, n_age=3, n_occupation=4, n_rate=3, n_year=5, n_genre=4,
             n_director=9)


def config(**changes):
    return dict(config_settings, embedding_dim=16, **changes)


def make_task(rng, user_id=0, n=20):
    x1 = np.tile([[1, 2, 3]], (n, 1)).astype(np.int32)
    x2 = np.zeros((n, 2 + SIZES['n_genre'] + SIZES['n_director']), np.int32)
    x2[:, 0] = rng.integers(0, SIZES['n_rate'], n)
    x2[:, 1] = rng.integers(0, SIZES['n_year'], n)
    for r in range(n):
        x2[r, 2 + rng.integers(0, SIZES['n_genre'])] = 1
        x2[r, 2 + SIZES['n_genre'] + rng.integers(0, SIZES['n_director'] - 2, 2)] = 1
    y = rng.integers(0, 5, n).astype(np.int32)
    y0 = rng.integers(0, 4, n).astype(np.int32)
    return UserTask(user_id, x1[:15], x2[:15], y[:15], y0[:15], x1[15:], x2[15:], y[15:], y0[15:])


def model_and_engine(cfg, seed=0):
    model = build_model(cfg, SIZES, seed=seed)
    rng = np.random.default_rng(seed)
    # moderate weights (the default N(0, 1) embeddings saturate the softmax quickly)
    model.set_parameters_dict({k: (0.1 * rng.standard_normal(v.shape)).astype(np.float32)
                               if 'embedding_table' in k else v
                               for k, v in model.get_parameters_dict().items()})
    return model, FastEngine(model, cfg, SIZES, 5)


def plain_update(model, task, cfg):
    return LOCALUpdate.from_task(model, task, cfg['batch_size'], cfg['n_inner_loop'],
                                 cfg['rho'], cfg['clip_norm'])


def test_hand_written_backward_matches_autodiff():
    cfg = config()
    model, engine = model_and_engine(cfg)
    task = make_task(np.random.default_rng(1))
    enc = engine.encoded(task)
    values = model.get_parameters_dict()
    names = engine.names
    local = np.zeros((16, enc.support[0][3].shape[1]), np.float32)
    local[:, :len(enc.director_cols)] = values[names[engine.layout.director]][:, enc.director_cols]
    params = [ms.Tensor(values[n]) for n in names]
    params[engine.layout.director] = ms.Tensor(local)
    cell = engine._cell([tuple(p.shape) for p in params], test=False)
    batch = [ms.Tensor(a) for a in enc.support[0]]
    got = cell.gradients(*params, *[ms.Tensor(a) for a in enc.user_oh], *batch)
    lu = plain_update(model, task, cfg)
    _, want = lu._grad_fn(ms.Tensor(task.sup_x1[:5]), ms.Tensor(task.sup_x2[:5]),
                          ms.Tensor(task.sup_y[:5]))
    for k, name in enumerate(names):
        w = want[k].asnumpy()
        g = got[k].asnumpy()
        if k == engine.layout.director:      # the user's columns; all others are zero
            np.testing.assert_array_equal(np.delete(w, enc.director_cols, axis=1), 0)
            w, g = w[:, enc.director_cols], g[:, :len(enc.director_cols)]
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize('rho, n_loop', [(0.01, 1), (1e-3, 3)])
def test_adapted_weights_and_query_gradients_match_the_plain_path(rho, n_loop):
    cfg = config(rho=rho, n_inner_loop=n_loop)
    for user in range(3):
        task = make_task(np.random.default_rng(10 + user), user)
        model, engine = model_and_engine(cfg, seed=user)
        start = model.get_parameters_dict()
        fast_grads, fast_loss = engine.train(task)
        fast = model.get_parameters_dict()
        model.set_parameters_dict(start)
        lu = plain_update(model, task, cfg)
        plain_grads = [g.asnumpy() for part in lu.train() for g in part]
        plain = model.get_parameters_dict()
        for name in fast:
            np.testing.assert_allclose(fast[name], plain[name], atol=1e-5, err_msg=name)
        for f, p in zip(fast_grads, plain_grads):
            np.testing.assert_allclose(f, p, atol=1e-5)
        assert fast_loss == pytest.approx(lu.last_query_loss, abs=1e-5)


def test_predictions_match_the_plain_path_and_leave_the_model_alone():
    cfg = config(rho=1e-3)
    for user in range(3):
        task = make_task(np.random.default_rng(20 + user), user)
        model, engine = model_and_engine(cfg, seed=user)
        start = model.get_parameters_dict()
        fast = engine.test(task)
        after = model.get_parameters_dict()
        assert all(np.array_equal(start[k], after[k]) for k in start)
        plain = plain_update(model, task, cfg).test()
        np.testing.assert_allclose(fast, plain, atol=1e-5)


def test_layout_finds_every_parameter_once():
    model = build_model(config(n_layer=3), SIZES)
    layout = model_layout([p.name for p in model.trainable_params()])
    flat = list(layout.user_tables) + [layout.rate, layout.genre, layout.director, layout.year]
    for layers in (layout.user_layers, layout.item_layers, (layout.mem_layer,),
                   layout.rec_layers):
        flat += [i for layer in layers for i in layer]
    assert sorted(flat) == list(range(len(model.trainable_params())))
    assert len(layout.user_layers) == 3 and len(layout.rec_layers) == 3


def test_whole_short_runs_give_the_same_metrics(prepared_dir):
    cfg = config(rho=1e-3, max_train_users=8, meta_batch=4)
    samples, sizes = load_samples(prepared_dir), load_feature_sizes(prepared_dir)
    results = []
    for path in ('fast', 'plain'):
        rec = MAMRec(cfg, samples, sizes, local_update=path)
        loss = rec.train_epoch()
        metrics, _ = rec.evaluate()
        results.append((loss, metrics, rec.phi_r[0]))
    (loss_f, metrics_f, phi_f), (loss_p, metrics_p, phi_p) = results
    assert loss_f == pytest.approx(loss_p, abs=1e-5)
    np.testing.assert_allclose(phi_f, phi_p, atol=1e-5)
    assert json.dumps(metrics_f, sort_keys=True) == json.dumps(metrics_p, sort_keys=True)


@pytest.mark.parametrize('rho', [1e-3, 1e-2])
def test_batched_testing_matches_one_user_at_a_time(prepared_dir, rho):
    """Test users adapted together (padded groups of 3) predict what they predict alone,
    and the model and memories stay as they were."""
    samples, sizes = load_samples(prepared_dir), load_feature_sizes(prepared_dir)
    probs = {}
    for test_batch in (1, 3):
        rec = MAMRec(config(rho=rho, max_train_users=4, test_batch=test_batch), samples, sizes)
        rec.train_epoch()
        before = rec.model.get_parameters_dict(), rec.meta_state()
        tasks = [rec.tasks[i] for i in rec.test_users]
        starts = [rec._personal_weights(t, train=False)[0] for t in tasks]
        if test_batch == 1:
            probs[1] = []
            for t, start in zip(tasks, starts):
                rec.model.set_parameters_dict(dict(before[0], **start))
                probs[1].append(rec.engine.test(t))
            rec.model.set_parameters_dict(before[0])
        else:
            probs[3] = rec.engine.test_many(tasks, starts, 3)
            y, y_hat, _, _ = rec.predict_test_users()
            np.testing.assert_array_equal(
                y_hat, np.concatenate([p.argmax(1) + 1 for p in probs[3]]))
        after = rec.model.get_parameters_dict(), rec.meta_state()
        for a, b in zip(before, after):
            assert all(np.array_equal(a[k], b[k]) for k in a)
    assert len(probs[1]) == len(probs[3]) > 3
    for single, batched in zip(probs[1], probs[3]):
        np.testing.assert_allclose(batched, single, atol=1e-5)
