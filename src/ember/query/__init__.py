"""The filter language, pure: text -> our own small tree (`ember.query.ast`), never evaluated.

`parse_filter(text, target)` is the entry point; the store compiles the tree to SQL.
"""

from ember.query.errors import FilterError
from ember.query.parse import parse_filter

__all__ = ["FilterError", "parse_filter"]
