"""offerscope: who may buy what on a cloud marketplace."""

__version__ = "0.1.0"
