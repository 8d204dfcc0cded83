"""Evaluation: annotated corpora (``corpora``), metrics against their gold spans
(``metrics.evaluate``) and cross-validation folds by patient (``folds``).  Offsets and
IDs only: reports carry no note text."""
