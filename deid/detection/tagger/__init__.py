"""The PHI tagger: a small trained token classifier for names and places.

Rules find structured PHI (dates, phones, IDs) well; names and places need context.
This tagger is a linear model over hashed lexical and context features, computed
vectorised from spaCy's token attributes: it runs at thousands of notes per second,
is trained in seconds (``python -m tools.train_tagger``) and ships as a ~1 MB file.
"""
