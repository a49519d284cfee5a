"""Security gates: scanners behind one interface, one SARIF report, a pure policy.

``scanners/`` holds one module per scanner (SAST, dependencies, secrets, config checks, SBOM,
DAST); ``engine`` runs the chosen ones; ``sarif`` and ``report`` render what they found;
``policy`` decides, without I/O, whether the findings fail the gate; ``gate`` is the one call
``shipyard ship`` makes before a deploy.
"""
