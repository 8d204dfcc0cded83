"""The PHI tagger: a small trained token classifier for names and places.

Rules find structured PHI (dates, phones, IDs) well; names and places need context.
This tagger is a linear-chain CRF over hashed lexical, lexicon and context features,
computed vectorised from spaCy's token attributes and decoded by forward-backward in
numpy: it runs at thousands of notes per second, is trained in minutes
(``python -m deid.tagger.train``) and ships as a ~1 MB file.
"""
