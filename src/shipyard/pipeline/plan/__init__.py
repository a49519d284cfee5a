"""Planning a run: matrix expansion and the job graph. Pure: no processes, no files."""
