"""webapp: a small web application that Shipyard builds, deploys and watches.

It is deliberately plain (standard library only) and deliberately breakable: environment
variables make it slow, failing, crashing or unhealthy, so deploy strategies, health gates and
canary analysis can be tested against a real process. See README.md for the knobs.
"""

__version__ = "1.0.0"
