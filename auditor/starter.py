"""``auditor init``: a starter config for a new district, made from the commented example
config shipped with the package, with an empty approval register and exports folder."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from auditor.errors import AuditorError

PAGES_HEADER = (
    "id,connector,external_id,name,kind,school,owner,supervisor,approved_by,approved_on,"
    "roster_class,students\n"
)
# The example's lines that only make sense for the sample district, and what replaces them.
_STARTER: tuple[tuple[str, str | None], ...] = (
    (r"(?m)^# Judge the pages as of this moment.*\n(?:#.*\n)*as_of = .*\n", ""),
    (r"(?m)^# \(district\.org: the sample district.*\n", ""),
    (r', "(?:students\.)?district\.org"', ""),
    (r'(?m)^oneroster_dir = "auditor/sample/roster"$', '# oneroster_dir = "roster"'),
    (r'(?m)^pages_csv = "auditor/sample/pages.csv"$', 'pages_csv = "pages.csv"'),
    (r'(?m)^path = "auditor/sample/pages"$', 'path = "exports"'),
    (r"(?m)^\[\[waivers\]\]\n((?:[a-z_]+ = .*\n?)+)", None),
    (r'(?m)^\[schools\."[^"]*"\]\n((?:[a-z_]+ = .*\n?)+)', None),
)


def example_config() -> str:
    """The commented example config (``config.example.toml``), as shipped."""
    return resources.files("auditor").joinpath("config.example.toml").read_text("utf-8")


def starter_config() -> str:
    """The example config made into a new district's starting point."""
    text = example_config()
    for pattern, replacement in _STARTER:
        if replacement is None:  # a block kept as an example, commented out
            text = re.sub(pattern, _comment_out, text)
        else:
            text = re.sub(pattern, replacement, text)
    head = (
        "# page-auditor configuration for your district (made by `auditor init`): every key,\n"
        "# commented. Register your pages in pages.csv, point [[connectors]] at your\n"
        "# platforms, then `auditor check-config --config config.toml`.\n#\n"
    )
    return head + text[text.index("# Relative paths") :]


def _comment_out(match: re.Match[str]) -> str:
    return "".join(f"# {line}\n" for line in match.group(0).splitlines())


def write_starter(folder: Path) -> list[Path]:
    """Write config.toml, an empty pages.csv and an exports/ folder into ``folder``;
    refuse to replace files that exist."""
    config, pages, exports = folder / "config.toml", folder / "pages.csv", folder / "exports"
    existing = [str(p) for p in (config, pages) if p.exists()]
    if existing:
        raise AuditorError(f"{', '.join(existing)}: already exists; nothing was written")
    exports.mkdir(parents=True, exist_ok=True)
    config.write_text(starter_config(), encoding="utf-8")
    pages.write_text(PAGES_HEADER, encoding="utf-8")
    return [config, pages, exports]
