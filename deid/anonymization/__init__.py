"""Anonymization: text and spans in, de-identified text and span metadata out
(``deidentifier.Deidentifier``).

``policy`` decides which spans are identifiers and which operator replaces each (the
entity's own, ``deid.entities``), ``operators`` are the presidio-anonymizer operators,
``surrogates`` their keyed generators, and ``keys`` the secret key they derive from.
"""
