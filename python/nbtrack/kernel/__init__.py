"""The IPython side of nbtrack: ``%track`` / ``%%track`` magics and the cell hooks.

This package is the only part of nbtrack that imports IPython.
"""
