"""Renderers: each module turns a Report into a string."""
