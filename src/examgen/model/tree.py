"""The loaded YAML tree: mappings and lists that remember where each value stands.

The load stage makes them; validation, the kinds and the grading scale read them. They sit
in the model, below every stage, so that none of those imports a stage to name them.
"""

from __future__ import annotations

from ..errors import Loc


class SourceMap(dict):
    """A YAML mapping that knows where it and each of its values stand."""

    loc: Loc
    key_locs: dict
    value_locs: dict

    def loc_of(self, key: str) -> Loc:
        """Where the value of ``key`` starts (for a block of text, its first line)."""
        return self.value_locs.get(key, self.loc)

    def loc_of_key(self, key: str) -> Loc:
        return self.key_locs.get(key, self.loc)


class SourceList(list):
    """A YAML sequence that knows where it and each of its items stand."""

    loc: Loc
    item_locs: list
