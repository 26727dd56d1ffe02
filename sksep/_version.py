"""The version of sksep (its own module, so that code inside the package need not import the package root)."""

__version__ = "0.1.0"
