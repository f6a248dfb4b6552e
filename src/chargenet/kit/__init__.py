"""Generic helpers with no domain word in them: time, geodesy, identifiers."""
