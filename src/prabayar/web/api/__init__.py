"""prabayar.web.api."""
