"""prabayar.support."""
