"""Meta-training and testing end to end on tiny synthetic data: outputs, determinism,
resume, test-phase isolation, and the command line's errors."""
import json
import math
import os

import numpy as np
import pytest

import mamorec
from configs import config_settings
from prepare_data import load_feature_sizes, load_samples

QUICK = ['--set', 'embedding_dim=16', '--set', 'max_train_users=8', '--set', 'meta_batch=4']


def run(prepared_dir, out_dir, *extra):
    return mamorec.main(['--data-dir', prepared_dir, '--out-dir', str(out_dir), *QUICK, *extra])


def epochs_without_times(results):
    return [{k: v for k, v in e.items() if k != 'seconds'} for e in results['epochs']]


@pytest.fixture(scope='module')
def two_epoch_run(prepared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp('run')
    assert run(prepared_dir, out, '--epochs', '2') == 0
    return out


def test_run_writes_checkpoints_and_results(two_epoch_run):
    files = set(os.listdir(two_epoch_run))
    assert {'results.json', 'epoch_1.ckpt', 'epoch_1.meta.ckpt', 'epoch_2.ckpt',
            'epoch_2.meta.ckpt'} <= files
    assert not [f for f in files if 'tmp' in f]
    results = json.loads((two_epoch_run / 'results.json').read_text())
    assert results['config']['embedding_dim'] == 16 and results['n_train_users'] == 8
    assert [e['epoch'] for e in results['epochs']] == [1, 2]
    for epoch in results['epochs']:
        assert math.isfinite(epoch['train_loss'])
        assert set(epoch['seconds']) == {'train', 'test'}
        for table in (epoch['metrics'], epoch['baseline']['support_mean']):
            assert set(table) == {'W-W', 'W-C', 'C-W', 'C-C', 'all'}
            assert table['all']['n'] == 5 * results['n_test_users']
            assert math.isfinite(table['all']['mae']) and 0 < table['all']['ndcg3'] <= 1


def test_same_seed_same_numbers(prepared_dir, two_epoch_run, tmp_path):
    assert run(prepared_dir, tmp_path, '--epochs', '2') == 0
    first = json.loads((two_epoch_run / 'results.json').read_text())
    again = json.loads((tmp_path / 'results.json').read_text())
    assert epochs_without_times(first) == epochs_without_times(again)


def test_other_seed_other_numbers(prepared_dir, two_epoch_run, tmp_path):
    assert run(prepared_dir, tmp_path, '--epochs', '1', '--seed', '7') == 0
    first = json.loads((two_epoch_run / 'results.json').read_text())
    other = json.loads((tmp_path / 'results.json').read_text())
    assert first['epochs'][0]['train_loss'] != other['epochs'][0]['train_loss']


def test_resume_gives_the_uninterrupted_results(prepared_dir, two_epoch_run, tmp_path):
    assert run(prepared_dir, tmp_path, '--epochs', '1') == 0
    # as if killed during epoch 2: a leftover temporary file must not matter
    (tmp_path / '.tmp_epoch_2.ckpt').write_bytes(b'partial')
    assert mamorec.main(['--data-dir', prepared_dir, '--out-dir', str(tmp_path), '--resume',
                         '--epochs', '2']) == 0
    first = json.loads((two_epoch_run / 'results.json').read_text())
    resumed = json.loads((tmp_path / 'results.json').read_text())
    assert epochs_without_times(resumed) == epochs_without_times(first)


def test_eval_only_reproduces_the_epoch_metrics(prepared_dir, two_epoch_run):
    assert mamorec.main(['--data-dir', prepared_dir,
                         '--eval-only', str(two_epoch_run / 'epoch_2.ckpt')]) == 0
    out = json.loads((two_epoch_run / 'epoch_2.eval.json').read_text())
    results = json.loads((two_epoch_run / 'results.json').read_text())
    assert out['metrics'] == results['epochs'][1]['metrics']


def test_testing_changes_neither_model_nor_memories_and_users_do_not_leak(prepared_dir):
    config = dict(config_settings, embedding_dim=16, max_train_users=4)
    rec = mamorec.MAMRec(config, load_samples(prepared_dir), load_feature_sizes(prepared_dir),
                         local_update='plain')
    rec.train_epoch()
    params, meta = rec.model.get_parameters_dict(), rec.meta_state()
    y, y_hat, _, _ = rec.predict_test_users()
    after_params, after_meta = rec.model.get_parameters_dict(), rec.meta_state()
    assert all(np.array_equal(params[k], after_params[k]) for k in params)
    assert all(np.array_equal(meta[k], after_meta[k]) for k in meta)
    # the last test user alone gets what it got after all the others
    rec.test_users = rec.test_users[-1:]
    y_last, y_hat_last, _, _ = rec.predict_test_users()
    np.testing.assert_array_equal(y_hat_last, y_hat[-len(y_last):])


@pytest.mark.parametrize('argv, message', [
    (['--device', 'GPU'], 'available: CPU'),
    (['--device', 'TPU'], 'choose one of CPU, GPU, Ascend'),
    (['--set', 'no_such_key=1'], "unknown key 'no_such_key'"),
    (['--set', 'n_k=three'], 'n_k=three: expected a number'),
    (['--set', 'split_ratio=1.5'], 'split_ratio=1.5: must be between 0 and 1'),
    (['--set', 'batch_size=0'], 'batch_size=0: must be a positive integer'),
    (['--set', 'embedding_dim'], 'expected key=value'),
    (['--set', 'active_func=swish'], 'choose one of'),
])
def test_bad_options_give_one_clear_line(argv, message, capsys, tmp_path):
    assert mamorec.main(['--out-dir', str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and message in err and '\n' not in err
    assert not os.listdir(tmp_path)


def test_missing_data_and_checkpoint_are_clear_errors(capsys, tmp_path):
    assert mamorec.main(['--data-dir', str(tmp_path / 'nothing'),
                         '--out-dir', str(tmp_path / 'run')]) == 2
    err = capsys.readouterr().err
    assert 'prepareDataset.py' in err and 'Traceback' not in err
    assert mamorec.main(['--eval-only', str(tmp_path / 'epoch_9.ckpt')]) == 2
    assert 'epoch_9.ckpt: checkpoint file not found' in capsys.readouterr().err


def test_resume_without_out_dir_takes_the_run_written_last(tmp_path):
    for name, mtime in (('zzz-old', 1000), ('20260101-000000', 2000), ('aaa-new', 3000)):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'results.json').write_text('{}')
        os.utime(tmp_path / name / 'results.json', (mtime, mtime))
    (tmp_path / 'no-results').mkdir()
    assert mamorec._newest_run(str(tmp_path)) == str(tmp_path / 'aaa-new')
    with pytest.raises(mamorec.ConfigError):
        mamorec._newest_run(str(tmp_path / 'no-results'))
