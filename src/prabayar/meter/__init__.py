"""prabayar.meter."""
