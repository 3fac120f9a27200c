"""The version of the ember distribution (its own module, so that lower layers can read it)."""
__version__ = "0.1.0"
