"""The contenders that are not this project's own commands, each a script the
harness runs in a process of its own (see bench/measure.py)."""
