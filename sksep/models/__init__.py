"""Trained models shipped with sksep; see :func:`sksep.load` and ``sksep models``."""
