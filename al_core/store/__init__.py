"""What outlives one iteration: ``history`` (the history database: SQLAlchemy, any URL), ``records`` (the typed
records it reads back: counts, metrics, uncertainty, settings, timings of an iteration), ``schema`` with
``migrations/`` (Alembic, run when a database is opened; the ORM rows in ``rows`` stay private to this package)
and ``versions`` (the artifacts of model versions: saved models and pool predictions, rollback and pruning)."""
