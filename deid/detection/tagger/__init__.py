"""The PHI tagger: a small trained token classifier for names and places.

Rules find structured PHI (dates, phones, IDs) well; names and places need context.
This tagger is a linear-chain CRF over hashed lexical, lexicon and context features,
computed vectorised from spaCy's token attributes and decoded by forward-backward in
numpy: it runs at thousands of notes per second.  Its weights ship in ``phi_tagger.npz``
(2^19 feature buckets x 4 labels in float16, plus the label transitions).  Training is a
developer tool, not shipped code: ``python -m tools.train_tagger --help``.
"""
