"""OCPP 1.6J and 2.0.1 charger gateway (chargenet as the CSMS)."""
