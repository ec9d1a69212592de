"""What outlives one iteration: ``history`` (the history database, typed records in and out) and ``versions``
(the artifacts of model versions: saved models and pool predictions, rollback and pruning)."""
