"""T/CEC 102 interconnection with Chinese operator platforms (evcipa protocol)."""
