"""What a licence text says about use: non-commercial, share-alike, no derivatives.

Users type licences however they like ("CC-BY-NC-4.0", "cc by-nc-sa 3.0", "Creative
Commons Attribution-NonCommercial", "non commercial use only", "GPL-3.0"), so the words and
SPDX ids are matched here rather than one spelling. A corpus built with
`--commercial-only` leaves out everything `noncommercial`; share-alike and no-derivatives
are reported when the folder is added, since they bind what is made from the music.
The tables are plain regular expressions a person can extend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Creative Commons as SPDX ids or as written: "CC-BY-NC-SA-4.0", "cc by nc 3.0".
_CC = re.compile(r"\bcc[\s_-]*by((?:[\s_-]*(?:nc|sa|nd)\b)*)")
NONCOMMERCIAL = re.compile(
    r"non[\s_-]*commercial|not\s+for\s+commercial|no\s+commercial|commercial\s+use\s+(?:is\s+)?"
    r"(?:not\s+allowed|prohibited|forbidden)|personal\s+use\s+only|private\s+use\s+only|"
    r"nicht[\s_-]*kommerziell|pas\s+d.utilisation\s+commerciale|non\s+commerciale|"
    r"no\s+comercial|\bnc\b")
SHAREALIKE = re.compile(r"share[\s_-]*alike|\bsa\b|copyleft|\b[al]?gpl\b|gnu\s+(?:lesser\s+|affero\s+)?"
                        r"general\s+public|\bmpl\b|\bodbl\b")
NODERIVATIVES = re.compile(r"no[\s_-]*deriv|\bnd\b")


@dataclass(frozen=True)
class LicenceTerms:
    noncommercial: bool
    sharealike: bool
    noderivatives: bool

    def describe(self) -> str:
        parts = [name for name, on in (("non-commercial", self.noncommercial),
                                       ("share-alike", self.sharealike),
                                       ("no derivatives", self.noderivatives)) if on]
        return ", ".join(parts) or "no restrictions found"


def licence_terms(text: str) -> LicenceTerms:
    t = " ".join(str(text).lower().replace("_", "-").split())
    cc = " ".join(m.group(1) for m in _CC.finditer(t))
    return LicenceTerms(noncommercial=bool(NONCOMMERCIAL.search(t) or re.search(r"\bnc\b", cc)),
                        sharealike=bool(SHAREALIKE.search(t) or re.search(r"\bsa\b", cc)),
                        noderivatives=bool(NODERIVATIVES.search(t) or re.search(r"\bnd\b", cc)))
