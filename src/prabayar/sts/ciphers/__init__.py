"""prabayar.sts.ciphers."""
