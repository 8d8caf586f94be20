"""Crash the platform's processes and engines while cases run (``make chaos``)."""
