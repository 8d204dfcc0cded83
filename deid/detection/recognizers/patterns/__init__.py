"""Structured PHI found by patterns: dates, ages, phones, emails, SSNs, medical and other
IDs, licences, vehicles, devices, URLs, IP addresses, ZIP codes and street addresses.
``_structured`` is the shared base of the labelled-pattern recognizers."""
