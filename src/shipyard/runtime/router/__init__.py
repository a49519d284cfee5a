"""The router: Shipyard's data plane, an HTTP/1.1 reverse proxy in its own processes.

The server starts it (``client.command(path)``: ``python -m shipyard.runtime.router --control
PATH [--workers N]``) and drives it with :class:`client.RouterClient` over a Unix socket: a route
table per environment (:mod:`routes`), instance readiness, golden-signal stats and shutdown
(:mod:`protocol`). docs/router.md is the reference.

Modules: ``protocol``/``routes``/``fields``/``errors`` (the control protocol, pure),
``client`` (the server's side), ``parent`` (control socket, metrics, workers), ``worker``
(one serving process), ``proxy``/``exchange``/``upstream``/``heads``/``balancer``/``signals``/
``context`` (the data plane).
"""
