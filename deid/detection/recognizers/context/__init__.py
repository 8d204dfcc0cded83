"""Names and places found by context rules over spaCy tokens: titles and credentials,
relatives, facilities, place phrases, full names.  ``_token_rules`` is their base."""
