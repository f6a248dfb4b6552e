"""OpenADR 2.0b: chargenet as a VEN (load aggregator) towards the grid operator's VTN."""
