"""MovieLens-1M and Book-Crossing preparation for MAMO.

Public API:

- :func:`load_samples` / :class:`UserSample`: the prepared per-user samples;
- :func:`load_feature_sizes`: feature cardinalities for sizing the model;
- :func:`prepare_movielens`: raw folder -> prepared folder;
- :func:`write_synthetic_movielens`: an offline ML-1M-shaped raw folder;
- :func:`prepare_bookcrossing`, :func:`write_synthetic_bookcrossing`: the same for
  Book-Crossing (same output layout, read by the same :func:`load_samples`);
- :func:`load_dataset_name`: 'movielens' or 'bookcrossing' for a prepared folder;
- :func:`load_vocab`: a prepared Book-Crossing folder's vocabularies;
- :class:`PrepareError`, :class:`DataNotPreparedError`: one-line, actionable errors.
"""
from .errors import DataNotPreparedError, PrepareError
from .prepareBookcrossing import load_dataset_name, load_vocab, prepare_bookcrossing
from .prepareMovielens import prepare_movielens
from .samples import UserSample, load_feature_sizes, load_samples
from .synthetic import write_synthetic_movielens
from .synthetic_bookcrossing import write_synthetic_bookcrossing

__all__ = ['DataNotPreparedError', 'PrepareError', 'UserSample', 'load_dataset_name',
           'load_feature_sizes', 'load_samples', 'load_vocab', 'prepare_bookcrossing',
           'prepare_movielens', 'write_synthetic_bookcrossing', 'write_synthetic_movielens']
