"""Internal: performance machinery of detection.  Same spans, less CPU and flat memory.

Nothing here changes what is detected; each module says what it saves and how its
equivalence is checked.  Domain code lives one level up (``deid.detection``); only
its modules import from here.

* ``tokenizer``: spaCy's tokenizer cached across memory zones, its affix regexes gated
  (``affix_gates``, reading regexes with ``regex_chars``), and only the word attributes
  deidflow reads computed;
* ``presidio``: Presidio's engine classes without the work deidflow does not need
  (eager NLP artifacts, context enhancement, per-note registry filtering);
* ``word_filter``, ``word_trie``: labelled patterns skipped on notes without their
  words; credential words matched as a trie;
* ``vocab_index``, ``heap``: spaCy's string tables and glibc's heap kept from growing
  over millions of notes.
"""
