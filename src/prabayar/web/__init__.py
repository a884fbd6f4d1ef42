"""prabayar.web."""
