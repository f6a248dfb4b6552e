"""chargenet: supervision and service platform for EV charging and battery-swapping infrastructure."""

__version__ = "0.1.0"
