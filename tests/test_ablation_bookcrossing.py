"""Ablation switches (feature memory, task memory) and the Book-Crossing model."""
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from configs import config_settings, dataset_settings
from mamorec import MAMRec
from models import build_model
from prepare_data import load_feature_sizes, load_samples

BK_SHAPES = [
    ('input_user_loading.emb_age.embedding_table', (106, 50)),
    ('input_user_loading.emb_location.embedding_table', (65, 50)),
    ('input_item_loading.emb_year.embedding_table', (80, 50)),
    ('input_item_loading.emb_author.embedding_table', (25593, 50)),
    ('input_item_loading.emb_publisher.embedding_table', (5254, 50)),
    ('user_embedding.fc.0.weight', (50, 100)), ('user_embedding.fc.0.bias', (50,)),
    ('user_embedding.final_layer.0.weight', (50, 50)), ('user_embedding.final_layer.0.bias', (50,)),
    ('item_embedding.fc.0.weight', (75, 150)), ('item_embedding.fc.0.bias', (75,)),
    ('item_embedding.final_layer.0.weight', (50, 75)), ('item_embedding.final_layer.0.bias', (50,)),
    ('rec_model.mem_layer.weight', (100, 100)), ('rec_model.mem_layer.bias', (100,)),
    ('rec_model.fc.0.weight', (50, 100)), ('rec_model.fc.0.bias', (50,)),
    ('rec_model.final_layer.0.weight', (10, 50)), ('rec_model.final_layer.0.bias', (10,)),
]
BK_SMALL = {'n_age_bk': 5, 'n_location': 4, 'n_year_bk': 6, 'n_author': 30, 'n_publisher': 12}


def bk_config(**changes):
    return {**config_settings, **dataset_settings['bookcrossing'], **changes}


def bk_samples(n_users=10, seed=0):
    """Book-Crossing-shaped users: x1 [age, location], x2 [author, year, publisher]."""
    rng = np.random.default_rng(seed)
    samples = []
    for u in range(n_users):
        x2 = np.stack([rng.integers(0, BK_SMALL['n_author'], 20),
                       rng.integers(0, BK_SMALL['n_year_bk'], 20),
                       rng.integers(0, BK_SMALL['n_publisher'], 20)], 1)
        samples.append(SimpleNamespace(
            user_id=u, x1=np.array([u % 5, u % 4]), x2=x2,
            y=rng.integers(1, 11, 20), y0=rng.integers(0, 4, 20)))
    return samples


def test_bookcrossing_model_has_the_reference_layout():
    model = build_model(bk_config(), dataset='bookcrossing')
    assert [(n, tuple(p.shape)) for n, p in model.parameters_and_names()] == BK_SHAPES


def test_bookcrossing_trains_and_tests_with_ten_classes():
    rec = MAMRec(bk_config(embedding_dim=8), bk_samples(), BK_SMALL, dataset='bookcrossing')
    assert rec.local_update == 'plain'           # the compiled path is MovieLens-only
    assert math.isfinite(rec.train_epoch())
    y, y_hat, _, _ = rec.predict_test_users()
    assert len(y) == 5 * len(rec.test_users) and set(y_hat) <= set(range(1, 11))
    metrics, baseline = rec.evaluate()
    assert math.isfinite(metrics['all']['mae']) and math.isfinite(baseline['all']['mae'])


@pytest.fixture(scope='module')
def ml(prepared_dir):
    return load_samples(prepared_dir), load_feature_sizes(prepared_dir)


def test_without_feature_memory_theta_u_is_phi_u_and_m_u_stays(ml):
    rec = MAMRec(dict(config_settings, embedding_dim=16, max_train_users=4,
                      feature_memory=False), *ml)
    u_memory = [[a.copy() for a in slot] for slot in rec.feature_mem.u_memory]
    rec._personalise(rec.tasks[rec.train_users[0]], train=True)
    for got, phi in zip(rec.model.get_weights()[0], rec.phi_u):
        np.testing.assert_array_equal(got, phi)
    rec.train_epoch()
    for slot, before in zip(rec.feature_mem.u_memory, u_memory):
        assert all(np.array_equal(a, b) for a, b in zip(slot, before))


def test_with_feature_memory_theta_u_has_the_bias_term(ml):
    rec = MAMRec(dict(config_settings, embedding_dim=16), *ml)
    rec._personalise(rec.tasks[rec.train_users[0]], train=True)
    assert not np.array_equal(rec.model.get_weights()[0][0], rec.phi_u[0])


def test_without_task_memory_the_memory_layer_starts_from_phi_and_m_ui_stays(ml):
    rec = MAMRec(dict(config_settings, embedding_dim=16, max_train_users=4,
                      task_memory=False), *ml)
    memory_ui = rec.task_mem.memory_UI.copy()
    rec._personalise(rec.tasks[rec.train_users[0]], train=True)
    np.testing.assert_array_equal(rec.model.get_ui_mem_weights()[0], rec.phi_r[0])
    rec.train_epoch()
    np.testing.assert_array_equal(rec.task_mem.memory_UI, memory_ui)


def test_neither_memory_still_meta_learns(ml):
    rec = MAMRec(dict(config_settings, embedding_dim=16, max_train_users=4, rho=1e-3,
                      feature_memory=False, task_memory=False), *ml)
    before = [w.copy() for w in rec.phi_r]
    rec.train_epoch()
    assert any(not np.array_equal(a, b) for a, b in zip(before, rec.phi_r))


def test_ablation_table_over_seeds(prepared_dir, tmp_path, capsys):
    import ablation
    out = tmp_path / 'ablation.json'
    assert ablation.main(['--data-dir', prepared_dir, '--epochs', '1', '--seeds', '1,2',
                          '--variants', 'mamo,neither', '--set', 'embedding_dim=8',
                          '--set', 'max_train_users=3', '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    rows = [l for l in printed.splitlines() if l.startswith('| ')]
    assert [r.split(' | ')[0] for r in rows] == ['| variant', '| mamo', '| neither',
                                                 '| support mean']
    assert all(r.count('±') >= 2 for r in rows[1:3])   # at least the 'all' columns
    data = json.loads(out.read_text())
    assert [r['seed'] for r in data['variants']['mamo']] == [1, 2]
    assert data['variants']['neither'][0]['metrics']['all']['n'] > 0


def test_ablation_summary_and_errors(capsys):
    import ablation
    assert ablation.summarise([1.0, 3.0, None, float('nan')]) == '2.0000 ± 1.0000'
    assert ablation.summarise([None]) == '-'
    assert ablation.main(['--variants', 'mamo,bogus']) == 2
    assert "unknown ['bogus']" in capsys.readouterr().err


@pytest.fixture(scope='module')
def bx_dir(tmp_path_factory):
    from prepare_data import prepare_bookcrossing, write_synthetic_bookcrossing
    root = tmp_path_factory.mktemp('bx')
    write_synthetic_bookcrossing(root / 'raw', n_users=60, seed=0)
    prepare_bookcrossing(root / 'raw', root / 'out', log=lambda *a, **k: None)
    return str(root / 'out')


def test_mamorec_runs_on_prepared_bookcrossing(bx_dir, tmp_path):
    import mamorec
    assert mamorec.main(['--dataset', 'bookcrossing', '--data-dir', bx_dir, '--epochs', '1',
                         '--out-dir', str(tmp_path), '--set', 'embedding_dim=8',
                         '--set', 'max_train_users=3']) == 0
    results = json.loads((tmp_path / 'results.json').read_text())
    assert results['dataset'] == 'bookcrossing' and results['local_update'] == 'plain'
    assert results['config']['tao'] == 0.15 and results['config']['lamda'] == 0.01
    assert math.isfinite(results['epochs'][0]['metrics']['all']['mae'])


def test_dataset_must_match_the_prepared_data(bx_dir, prepared_dir, capsys):
    import mamorec
    assert mamorec.main(['--data-dir', bx_dir, '--epochs', '1']) == 2
    assert 'holds bookcrossing data, not movielens' in capsys.readouterr().err
    assert mamorec.main(['--dataset', 'bookcrossing', '--data-dir', prepared_dir]) == 2
    assert 'holds movielens data, not bookcrossing' in capsys.readouterr().err
