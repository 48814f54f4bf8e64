"""Hyper-parameters of MAMO (MovieLens-1M defaults).

Keys and values follow the reference implementation's ``configs.py``; the keys marked
"port" are additions of this port (see README, "Differences from the reference").
Edit this file, or override any key on the command line: ``--set key=value``.
"""

config_settings = {
    # data split
    'random_state': 100,     # seed of the 80/20 train/test user shuffle (port: always seeded)
    'split_ratio': 0.8,
    'support_size': 15,
    'query_size': 5,
    # model
    'embedding_dim': 100,
    'n_layer': 2,
    'active_func': 'leaky_relu',
    # memories
    'n_k': 3,                # number of memory slots K
    'alpha': 0.5,            # profile memory M_P update rate
    'beta': 0.05,            # feature memory M_U update rate
    'gamma': 0.1,            # task memory M_UI update rate
    # optimisation
    'rho': 0.01,             # local (Adam) learning rate
    'lamda': 0.05,           # global learning rate
    'tao': 0.01,             # weight of the personalised bias term (paper appendix: 0.1)
    'batch_size': 5,
    'n_epoch': 3,
    'n_inner_loop': 3,
    'clip_norm': 5.0,        # global-norm gradient clipping of the local update
    # port additions
    'meta_batch': 1,         # port: global update after every meta_batch training users
    'max_train_users': 0,    # port: cap on training users per epoch (0 = all; reference: 100)
    'seed': 1,               # port: seed of weights and memories
    'test_batch': 1,         # port: test users adapted together by the compiled path (1 = one by one)
    # ablations (paper, Section 3.4); both true = MAMO, both false = a MeLU-like learner
    'feature_memory': True,  # port: false = theta_u <- phi_u (no bias term b_u, no M_U)
    'task_memory': True,     # port: false = the memory layer starts from phi (no M_UI)
}

# Per-dataset defaults applied before command-line overrides: the paper's Book-Crossing
# settings (Section 4.1 and appendix).
dataset_settings = {
    'movielens': {},
    'bookcrossing': {'embedding_dim': 50, 'lamda': 0.01, 'beta': 0.1, 'gamma': 0.1,
                     'tao': 0.15, 'rho': 0.01, 'alpha': 0.5},
}
