"""Fill ``$KEY$`` placeholders; refuse leftover placeholders and unused values (a misspelt key fails loudly)."""
import math
import re

PLACEHOLDER = re.compile(r"\$([A-Z][A-Z0-9_]*)\$")


class TemplateError(Exception):
    """A template and its values do not match (a bug in signflow, not a user error)."""


def render(template, values):
    """``template`` with every ``$KEY$`` replaced by ``str(values[KEY])``."""
    wanted = set(PLACEHOLDER.findall(template))
    missing, unused = wanted - set(values), set(values) - wanted
    if missing or unused:
        raise TemplateError(f"template keys missing values: {sorted(missing)}; values without keys: {sorted(unused)}")
    for key, value in values.items():  # a number that is not one (NaN, inf, True) would be pasted as a word
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise TemplateError(f"template value {key} is {value!r}, not a finite number")
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
