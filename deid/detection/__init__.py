"""Detection: text in, PHI spans out (``detector.Detector``).

``detector`` (batches, long notes in segments, the second pass per note) runs the
Presidio engine ``analyzer`` builds over the spaCy pipeline of ``nlp``: the
``recognizers`` (patterns, context rules, the trained ``tagger``'s spans, the site's
lists), then ``consistency`` carries names and places to their other mentions in the
note.  ``wordclass`` and ``lexicon`` judge words; ``_speedups`` is internal machinery
that makes the same spans cheaper.
"""
