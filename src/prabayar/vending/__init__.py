"""prabayar.vending."""
