"""OCPI 2.2.1: operator platforms and federation between chargenet instances."""
