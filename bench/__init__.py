"""Benchmarks: each figure is printed beside a floor measured in the same run, as a ratio."""
