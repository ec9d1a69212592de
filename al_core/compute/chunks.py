"""What a Dask worker runs on one chunk of the pool. Plain functions of picklable values (a worker imports
this module by name, so workers need this app's environment: the same ``.venv``).

A worker loads the encoder once (its process's shared ``Encoder``) on the device its own ``AL_DEVICE`` or its
own GPU chooses, and keeps no vectors between chunks: the client holds the pool's vectors and the disk cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from al_core.learning import embeddings
from al_core.learning.models import FittedModel


def embed_chunk(encoder: str, texts: Sequence[str]) -> np.ndarray:
    """L2-normalized float32 vectors of ``texts`` (shape (len(texts), dim)), embedded in the order given.

    Send texts sorted by length and cut at multiples of ``embeddings.BATCH_SIZE``: the network then sees the
    same batches as in one process, and the vectors are bit for bit the same.
    """
    model = embeddings.get_encoder(encoder)
    keys = [embeddings.text_key(t) for t in texts]
    vectors = np.array(model.encode(list(texts)))  # a writable copy: the memo's rows are dropped next
    model.forget(keys)
    return vectors


def predict_chunk(model: FittedModel, texts: Sequence[str]) -> np.ndarray:
    """``model.predict_proba(texts)``: float32 of shape (len(texts), n_classes), columns in ``model.classes`` order."""
    return model.predict_proba(list(texts))
