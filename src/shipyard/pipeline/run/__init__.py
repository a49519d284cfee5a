"""Running a planned workflow: scheduler, steps, workflow commands, step files."""
