"""Feeds (RSS 0.9x/1.0/2.0, Atom) to articles: the names callers know, kept here.

The work is done by the stages of :mod:`distributor.ingest.pipeline`.
"""

from distributor.ingest.normalise import clean_link, parse_date
from distributor.ingest.pipeline import parse_feed

__all__ = ["clean_link", "parse_date", "parse_feed"]
