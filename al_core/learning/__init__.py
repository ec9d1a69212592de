"""Learning code, pure: arrays and texts in, arrays and typed results out; no Label Studio, no history, no files
beyond a model's own artifact. ``models`` (the classifiers: registry, fitting, prediction, persistence; their
parameters in ``model_params``, the calibrated SVM in ``calibrated_svc``), ``embeddings`` (sentence vectors and their
cache), ``strategies`` (query strategies), ``evaluation`` (metrics, uncertainty, stopping), ``scoring`` (train,
measure and order a pool) and ``memory`` (giving freed memory back)."""
