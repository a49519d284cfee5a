"""Deploy strategies: pure functions from the observed state of an environment to rollout steps.

``plan(observed, settings)`` picks the strategy named in the settings; ``revert(observed)`` plans
the way back when a rollout fails or is aborted. No I/O here (an import-linter contract keeps it
so): the executor in ``shipyard.deploy.rollout`` does the work.
"""
