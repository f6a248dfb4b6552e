"""Processes: the command line and the web application."""
