"""Everything that knows Label Studio: ``gateway`` (the only module that talks to the server; its pure parts in
``gateway_payloads``, rows -> records, ``gateway_errors``, failures -> our errors, and ``gateway_retry``, what is
sent again after a failure), ``label_config`` (labeling
configs), ``records`` (tasks, annotations, projects as our own dataclasses), ``labels`` (annotations -> training
labels), ``task_cache`` (incremental task sync), ``queue`` (the scores that order Label Studio's queue), ``uploads``
(files -> tasks to import; reading in ``upload_text``, bytes -> text, and ``upload_rows``, text -> rows) and
``local_server`` (the Label Studio that ``make run`` and the tests start)."""
