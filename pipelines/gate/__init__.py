"""The quality gate, in one place: nothing is published that fails it.

* ``residual``: the residual-identifier screen.  Runs on the workers (no Great
  Expectations), withholds each row whose text outside the replaced spans still holds
  an SSN, phone, email or MRN, and does the kept-text arithmetic;
* ``validation``: Great Expectations on each window of output rows and its counts
  (the suites are ``expectations.deidentified_notes``; the patterns
  ``expectations.residual_patterns``), with PHI-free results;
* ``enforcement``: the run-level decision before publication -- every record
  accounted for, no window failed, the residual screen under its cap, the publication
  guard -- and the failures it raises (``ValidationFailed``, ``PublicationRefused``).
"""
