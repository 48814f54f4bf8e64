"""MovieLens-1M preparation for MAMO.

Public API:

- :func:`load_samples` / :class:`UserSample`: the prepared per-user samples;
- :func:`load_feature_sizes`: feature cardinalities for sizing the model;
- :func:`prepare_movielens`: raw folder -> prepared folder;
- :func:`write_synthetic_movielens`: an offline ML-1M-shaped raw folder;
- :class:`PrepareError`, :class:`DataNotPreparedError`: one-line, actionable errors.
"""
from .errors import DataNotPreparedError, PrepareError
from .prepareMovielens import prepare_movielens
from .samples import UserSample, load_feature_sizes, load_samples
from .synthetic import write_synthetic_movielens

__all__ = ['DataNotPreparedError', 'PrepareError', 'UserSample', 'load_feature_sizes',
           'load_samples', 'prepare_movielens', 'write_synthetic_movielens']
