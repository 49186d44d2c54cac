"""The ``distributor`` command."""
