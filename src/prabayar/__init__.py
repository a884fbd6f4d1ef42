"""prabayar: an open-source prepaid electricity (listrik prabayar) platform on IEC 62055-41 (STS)."""

__version__ = "0.1.0"
