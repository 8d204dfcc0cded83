"""Developer tools: training, data rebuilds and checks.  Not shipped with deidflow.

* ``train_tagger.py``: train the PHI tagger (needs the dev dependencies: python-crfsuite,
  scikit-learn);
* ``dump_detections.py``: every span and anonymized text, to prove a refactoring
  changed nothing.
"""
