"""Feature flags: flagd-format definitions, flagd's evaluation, OFREP and OpenFeature.

The evaluation modules (``coercion``, ``jsonlogic``, ``semver``, ``targeting``,
``definitions``, ``evaluator``, ``overrides``) are pure: no I/O, enforced by import-linter.
``files`` reads flag files, and ``openfeature`` is the in-process provider.
"""
