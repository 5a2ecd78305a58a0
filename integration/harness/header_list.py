"""Case-insensitive lookup in a list of (name, value) header pairs, for requests and answers."""


class HeaderLookup:
    """For a class with a `headers: list[tuple[str, str]]` attribute."""

    headers: list[tuple[str, str]]

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        """The one value of a header; fails if it appears more than once."""
        found = self.header_values(name)
        assert len(found) <= 1, f"header {name} appears {len(found)} times: {found}"
        return found[0] if found else None
