"""The command line: the only place that prints for humans or exits."""

import gc

# A command builds most of its objects once and keeps them to its end: at Python's default
# threshold (700 allocations) the collector ran dozens of times while a run's modules were
# imported, for nothing (about 7% of a one-step `shipyard run`); at 10,000 it still ran four
# times (11 ms) in a run of 200 steps, at 50,000 not once. Cycles are still collected.
# Set here, in the package every command enters through, before any command's imports.
gc.set_threshold(50_000, 20, 20)
