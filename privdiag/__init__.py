"""privdiag: find out why personalization breaks when privacy rules tighten."""

__version__ = "0.1.0"
