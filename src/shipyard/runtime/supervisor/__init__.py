"""The supervisor: keeps each environment's service instances running, ready and logged.

``supervisor`` decides and records (desired instances per environment, adoption after a server
restart), ``instance`` runs one instance's life (start, probe, restart with backoff), ``processes``
does the process-group work, ``probes`` the readiness and liveness checks, ``logshim`` the log
writer that runs beside each instance, and ``logs`` reads the logs back.
"""
