"""Runtimes: the code that does the work of a node (reading files, writing files, ...)."""
