"""prabayar.web: the HTTP API for payment points and the web app for customers and operators."""

from prabayar.web.app import create_app

__all__ = ["create_app"]
