"""ember-sdk: the light distribution an instrumented application installs.

It never depends on the server's packages. `register()` and `Client` arrive with the [sdk] and
[query] work; for now the package only fixes the distribution boundary.
"""

__version__ = "0.1.0"
