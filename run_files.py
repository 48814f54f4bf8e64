"""Files of a training run: per-epoch checkpoints and ``results.json``, written atomically.

A run folder holds ``results.json`` (config and one entry per completed epoch) and, per
epoch, ``epoch_<k>.ckpt`` (the MindSpore Cells' parameters) and ``epoch_<k>.meta.ckpt``
(phi and the three memories). Every file is written to a temporary name and renamed, so
an interrupted run never leaves a half-written file behind.
"""

import json
import math
import os
from typing import Dict, Optional

import mindspore as ms
import numpy as np


def atomic_write_text(path: str, text: str):
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def _json_safe(value):
    """NaN/inf become null so that results.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: str, data: dict):
    """Atomic, strict JSON (NaN written as null)."""
    atomic_write_text(path, json.dumps(_json_safe(data), indent=2) + '\n')


def read_json(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _save_arrays(path: str, arrays: Dict[str, np.ndarray]):
    # save_checkpoint appends ".ckpt" to names without it: keep the suffix on the temp name.
    tmp = os.path.join(os.path.dirname(path) or '.', '.tmp_' + os.path.basename(path))
    ms.save_checkpoint([{'name': k, 'data': ms.Tensor(np.asarray(v))} for k, v in arrays.items()],
                       tmp)
    os.replace(tmp, path)


def _load_arrays(path: str) -> Dict[str, np.ndarray]:
    return {k: v.asnumpy() for k, v in ms.load_checkpoint(path).items()}


def checkpoint_paths(run_dir: str, epoch: int):
    """(model checkpoint, meta checkpoint) of ``epoch`` in ``run_dir``."""
    base = os.path.join(run_dir, f'epoch_{epoch}')
    return base + '.ckpt', base + '.meta.ckpt'


def meta_path_for(model_ckpt: str) -> str:
    """The meta checkpoint stored beside a model checkpoint."""
    root = model_ckpt[:-len('.ckpt')] if model_ckpt.endswith('.ckpt') else model_ckpt
    return root + '.meta.ckpt'


def save_state(model_ckpt: str, params: Dict[str, np.ndarray], meta: Dict[str, np.ndarray]):
    """Write the Cells' parameters and the meta state (phi, memories); meta goes first so
    that a model checkpoint never exists without its meta file."""
    _save_arrays(meta_path_for(model_ckpt), meta)
    _save_arrays(model_ckpt, params)


def load_state(model_ckpt: str):
    """(parameters, meta state) as {name: array} dicts; a clear error if a file is missing."""
    meta_ckpt = meta_path_for(model_ckpt)
    for path in (model_ckpt, meta_ckpt):
        if not os.path.isfile(path):
            raise FileNotFoundError(f'{path}: checkpoint file not found')
    return _load_arrays(model_ckpt), _load_arrays(meta_ckpt)


def last_completed_epoch(results: Optional[dict]) -> int:
    """The highest epoch recorded in results.json (0 if none)."""
    if not results or not results.get('epochs'):
        return 0
    return max(e['epoch'] for e in results['epochs'])
