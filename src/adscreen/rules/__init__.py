"""Rules: what hand-written, data-driven patterns find in an ad (red flags, contacts, indicators,
destinations, guidance), each loaded from ``data/`` and matched by one pattern engine."""
