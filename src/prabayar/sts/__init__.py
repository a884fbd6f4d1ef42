"""prabayar.sts."""
