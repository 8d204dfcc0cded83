"""Great Expectations suites, defined as code: what de-identified output must satisfy.

* ``deidentified_notes``: the row suite (schema, types, splits, residual identifiers
  outside the replaced spans, the kept-text ratio) and the window-counts suite;
* ``residual_patterns``: the residual-identifier patterns, plain ``re`` (no GX import),
  shared with the screen that runs on the workers (``pipelines.gate.residual``).

Where they run and what is done with the outcome: ``pipelines.gate``.
"""
