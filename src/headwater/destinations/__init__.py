"""Destinations: connector plugins and the one delivery engine that sends to all of them."""
