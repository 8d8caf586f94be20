"""Benchmarks: the engines' own limits and the platform's case rate, in one run."""
