"""The outside world. Each adapter implements a port of `chargenet.app` or drives it;
adapters never import each other."""
