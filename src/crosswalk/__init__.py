"""crosswalk: reconcile retirement plan documents across vendors and restatements.

The public API is `Crosswalker` (a façade over settings and a store) with `ConversionInputs`;
errors are `CrosswalkError` and its subclasses. See README, "Python API".
"""

from ._version import __version__

from .api import ConversionInputs, Crosswalker  # noqa: E402
from .errors import (ConfigError, CrosswalkError, InputError, Interrupted, ItemsFailedError,  # noqa: E402
                     OutputError, ProviderError, StoreError)
from .settings import Settings, load_settings  # noqa: E402

__all__ = ["ConversionInputs", "Crosswalker", "Settings", "load_settings", "CrosswalkError", "InputError",
           "ConfigError", "StoreError", "OutputError", "ProviderError", "ItemsFailedError", "Interrupted",
           "__version__"]
