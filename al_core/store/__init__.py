"""What outlives one iteration: ``history`` (the history database: SQLAlchemy, any URL; one Label Studio server's
projects per ``History``), ``locks`` (the run lock of a server's project, across processes), ``records`` (the
typed records it reads back: counts, metrics, uncertainty, settings, timings of an iteration), ``schema`` with
``migrations/`` (Alembic, run when a database is opened; the ORM rows in ``rows`` stay private to this package)
and ``versions`` (the artifacts of model versions, per server: saved models and pool predictions, rollback and
pruning)."""
