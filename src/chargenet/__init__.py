"""chargenet: a supervision and service platform for EV charging and battery swapping."""

__version__ = "0.1.0"
