"""prabayar.web.pages."""
