"""Distributor: newsletter and syndication distribution for independent newsrooms."""

__version__ = "0.1.0"
