"""Payment providers: their signed notifications → top-ups (app/payments.py)."""
