"""The colour palette shared by the run report and the digests (light and dark), chosen
so every text/background pair meets WCAG AA; ``contrast`` lets tests prove it."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Palette:
    """One colour scheme: page colours plus a text/background pair per status family."""

    fg: str
    muted: str
    bg: str
    soft: str
    line: str
    link: str
    fail: str
    fail_bg: str
    warn: str
    warn_bg: str
    pass_: str
    pass_bg: str
    info: str
    info_bg: str

    def as_dict(self) -> dict[str, str]:
        """Colour names as CSS custom-property suffixes (``pass_`` becomes ``pass``)."""
        return {k.rstrip("_").replace("_", "-"): v for k, v in asdict(self).items()}

    def text_pairs(self) -> dict[str, tuple[str, str]]:
        """Every foreground/background pair the templates put text on."""
        return {
            "body": (self.fg, self.bg),
            "body-soft": (self.fg, self.soft),
            "muted": (self.muted, self.bg),
            "muted-soft": (self.muted, self.soft),
            "link": (self.link, self.bg),
            "link-soft": (self.link, self.soft),
            "fail": (self.fail, self.fail_bg),
            "warn": (self.warn, self.warn_bg),
            "pass": (self.pass_, self.pass_bg),
            "info": (self.info, self.info_bg),
            "fail-on-bg": (self.fail, self.bg),
        }


LIGHT = Palette(
    fg="#1b1f24",
    muted="#4a5360",
    bg="#ffffff",
    soft="#f3f5f7",
    line="#c9d0d8",
    link="#1a4fa0",
    fail="#9b1218",
    fail_bg="#fde8e8",
    warn="#6e4400",
    warn_bg="#fff1cc",
    pass_="#1b6330",
    pass_bg="#e3f4e7",
    info="#234e8c",
    info_bg="#e6eefb",
)

DARK = Palette(
    fg="#e7eaee",
    muted="#b3bcc7",
    bg="#15181c",
    soft="#1f252c",
    line="#3b444f",
    link="#9cc3ff",
    fail="#ffb3ad",
    fail_bg="#4a1618",
    warn="#ffd98a",
    warn_bg="#3e2c00",
    pass_="#9fe3b1",
    pass_bg="#133922",
    info="#b0ccfa",
    info_bg="#1a2c4a",
)


def _luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.x) of ``#rrggbb``."""
    value = hex_colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
