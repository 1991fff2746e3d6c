"""crosswalk: reconcile retirement plan documents across vendors and restatements."""

__version__ = "0.1.0"
