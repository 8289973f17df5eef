#!/usr/bin/env python3
"""Generate a dated, incident-labelled corpus for checking the story clusterer's time window.

Usage: gen_dated_corpus.py OUT_DIR [--incidents N] [--seed S] [--updates]   (writes OUT_DIR/articles.jsonl)

Every incident is one event of a kind (earthquake, factory fire, bank robbery, election, strike…)
in one place on one day, with its own names and figures. Several outlets report it in different
wordings over the following hours or days; some spell the place differently (one edit or a doubled
letter), some are syndicated copies. The traps are built in on purpose:
  * each incident has a twin of the same kind on the same day in another place;
  * some incidents have an escalation in the same place, with the same actors, 3 to 6 weeks later
    (a different story);
  * background stories of unrelated kinds run at the same time.
All text is generated here from templates written for this script (no real articles).
"""
import argparse
import datetime as dt
import json
import os
import random

PLACES = [
    ("Lyon", "France"), ("Porto", "Portugal"), ("Gdansk", "Poland"), ("Tartu", "Estonia"),
    ("Ghent", "Belgium"), ("Graz", "Austria"), ("Brno", "Czech Republic"), ("Malmo", "Sweden"),
    ("Bergen", "Norway"), ("Aarhus", "Denmark"), ("Turku", "Finland"), ("Cork", "Ireland"),
    ("Leeds", "United Kingdom"), ("Bilbao", "Spain"), ("Bologna", "Italy"), ("Split", "Croatia"),
    ("Cluj-Napoca", "Romania"), ("Plovdiv", "Bulgaria"), ("Izmir", "Turkey"), ("Tbilisi", "Georgia"),
    ("Ganja", "Azerbaijan"), ("Gyumri", "Armenia"), ("Kharkiv", "Ukraine"), ("Almaty", "Kazakhstan"),
    ("Mombasa", "Kenya"), ("Kumasi", "Ghana"), ("Fez", "Morocco"), ("Sfax", "Tunisia"),
    ("Medellin", "Colombia"), ("Cordoba", "Argentina"), ("Arequipa", "Peru"), ("Curitiba", "Brazil"),
    ("Monterrey", "Mexico"), ("Winnipeg", "Canada"), ("Tucson", "United States"), ("Adelaide", "Australia"),
    ("Cebu", "Philippines"), ("Surabaya", "Indonesia"), ("Chiang Mai", "Thailand"), ("Da Nang", "Vietnam"),
    ("Pune", "India"), ("Multan", "Pakistan"), ("Sylhet", "Bangladesh"), ("Busan", "South Korea"),
    ("Sapporo", "Japan"), ("Wuhan", "China"), ("Shiraz", "Iran"), ("Basra", "Iraq"),
]
FIRST = ["Anna", "Marek", "Leila", "Tomas", "Ines", "Karim", "Olga", "Pavel", "Sofia", "Jonas", "Amir",
         "Elena", "Rui", "Nadia", "Viktor", "Hana", "Diego", "Mei", "Kofi", "Lars", "Aylin", "Ruben"]
LAST = ["Novak", "Haddad", "Kowalski", "Petrov", "Lindqvist", "Moreau", "Silva", "Okafor", "Tanaka",
        "Demir", "Rossi", "Horvat", "Ivanova", "Mensah", "Brandt", "Costa", "Sato", "Varga", "Nazarov"]
COMPANIES = ["Norvex", "Kelda Steel", "Arbona Foods", "Tessaly Chemicals", "Vantor Motors", "Ostrel Bank",
             "Brightwell Textiles", "Maricom", "Delna Logistics", "Pyrex Mining", "Orla Plastics", "Sundra Glass",
             "Kovac Paper", "Mirelle Cosmetics", "Tarrow Cement", "Ubeda Oils", "Halvard Timber", "Quenta Pharma",
             "Ribe Shipping", "Zolta Batteries"]

KINDS = {
    "quake": {
        "titles": ["Magnitude {mag} earthquake shakes {place}", "Quake of {mag} hits near {place}, {dead} dead",
                   "{place} earthquake: {dead} killed, buildings damaged", "Strong tremor rocks {country}'s {place}"],
        "body": ["An earthquake of magnitude {mag} struck near {place} in {country} early on {weekday}, killing {dead} people.",
                 "The tremor, centred {km} kilometres from {place}, damaged {n} buildings, officials said.",
                 "Seismologist {person} said aftershocks of up to {mag2} were recorded.",
                 "Rescue teams searched collapsed houses in the {district} district of {place}.",
                 "{person2}, the regional governor, declared a state of emergency."],
    },
    "fire": {
        "titles": ["Fire destroys {company} plant in {place}", "{dead} dead in {place} factory blaze",
                   "Blaze at {company} factory in {place} kills {dead}", "{place}: firefighters battle {company} fire"],
        "body": ["A fire broke out at the {company} factory in {place}, {country}, on {weekday}, killing {dead} workers.",
                 "About {n} firefighters fought the blaze for {hours} hours, fire chief {person} said.",
                 "{company} said production at the {district} site would stop for weeks.",
                 "Prosecutor {person2} opened an investigation into the cause of the fire.",
                 "Smoke could be seen across {place}, residents said."],
    },
    "robbery": {
        "titles": ["Armed robbers raid {company} branch in {place}", "{place} bank heist nets {money} million",
                   "Gang steals {money} million from {place} bank", "Police hunt {place} bank robbers"],
        "body": ["Armed men robbed a {company} branch in {place}, {country}, on {weekday} and escaped with {money} million.",
                 "Police chief {person} said {n} suspects fled in a stolen car towards the {district} district.",
                 "Two employees were injured during the robbery, the bank said.",
                 "Investigator {person2} appealed for witnesses.",
                 "It was the largest robbery in {place} in years, local media said."],
    },
    "strike": {
        "titles": ["Transport workers strike in {place}", "{place} paralysed as {n} workers walk out",
                   "Strike halts buses and trams in {place}", "{country}: unions call strike in {place}"],
        "body": ["Public transport in {place}, {country}, stopped on {weekday} as {n} workers went on strike.",
                 "Union leader {person} demanded a pay rise of {pct} percent.",
                 "Mayor {person2} called the walkout irresponsible and offered talks.",
                 "Commuters in the {district} district waited for hours for replacement buses.",
                 "The strike is planned to last {hours} hours."],
    },
    "clash": {
        "titles": ["{dead} soldiers killed in border clash near {place}", "Troops clash near {place}, {dead} dead",
                   "Border fighting flares near {place}", "{country} reports deadly clash near {place}"],
        "body": ["{dead} soldiers were killed in a clash near {place}, {country}, on {weekday}, the defence ministry said.",
                 "Commander {person} said {n} drones were used in the attack.",
                 "Residents of the {district} area fled to shelters.",
                 "Foreign minister {person2} called for an investigation.",
                 "Observers said the fighting was the worst in months."],
    },
}
DISTRICTS = ["Northgate", "Riverside", "Old Town", "Harbour", "Eastfield", "Hillcrest", "Market", "Westbank"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
OUTLETS = ["Daily Ledger", "World Wire", "Metro Courier", "Global Times Review", "Evening Post", "Newsline",
           "Continental Report", "Harbour Herald"]


def variant(name, rng):
    """A spelling variant: a doubled or dropped letter, or one letter changed."""
    if len(name) < 5 or " " in name or "-" in name:
        return name
    i = rng.randrange(1, len(name) - 1)
    op = rng.choice(["double", "drop", "swap"])
    if op == "double":
        return name[:i] + name[i] + name[i:]
    if op == "drop":
        return name[:i] + name[i + 1:]
    return name[:i] + rng.choice("aeiou") + name[i + 1:]


def make_incident(kind, place, country, day, rng, actors=None):
    facts = {
        "place": place, "country": country, "kind": kind,
        "mag": f"{rng.randint(50, 74) / 10:.1f}", "mag2": f"{rng.randint(35, 49) / 10:.1f}",
        "dead": rng.randint(2, 40), "km": rng.randint(5, 80), "n": rng.randint(12, 900),
        "hours": rng.randint(4, 48), "money": rng.randint(2, 90), "pct": rng.randint(4, 20),
        "district": rng.choice(DISTRICTS), "weekday": WEEKDAYS[day.weekday()],
        "company": rng.choice(COMPANIES),
    }
    people = actors or (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    facts["person"], facts["person2"] = people
    return facts


def reports(facts, label, start, rng, n_reports, updates=False):
    kind = KINDS[facts["kind"]]
    out = []
    original = None
    for r in range(n_reports):
        when = start + dt.timedelta(minutes=rng.randint(10, 60 * 36))
        f = dict(facts)
        if updates:
            # Later reports revise the figures (a rising toll), as real reports do.
            if rng.random() < 0.5:
                f["dead"] = facts["dead"] + rng.randint(1, 6)
            if rng.random() < 0.5:
                f["n"] = facts["n"] + rng.randint(1, 50)
            if rng.random() < 0.3:
                f["hours"] = facts["hours"] + rng.randint(1, 5)
        if rng.random() < 0.25:
            f["place"] = variant(facts["place"], rng)
        title = rng.choice(kind["titles"]).format(**f)
        body = kind["body"][:]
        rng.shuffle(body)
        sentences = body[: rng.randint(3, len(body))]
        text = title + "\n" + "\n".join(s.format(**f) for s in sentences)
        rec = {"id": f"{label}-{r}", "published_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "title": title,
               "text": text, "source": rng.choice(OUTLETS), "label": label}
        if original and rng.random() < 0.15:
            rec["text"], rec["title"] = original["text"], original["title"]
            rec["duplicate_of"] = original["id"]
        original = original or rec
        out.append(rec)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--incidents", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--updates", action="store_true",
                    help="later reports revise an incident's figures (tolls, counts, hours)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = dt.datetime(2025, 1, 1, 6, 0, 0)
    rows = []
    k = 0
    used = {}  # (kind, place) -> days: one city does not get two quakes (or two strikes) within weeks
    while k < args.incidents:
        kind = rng.choice(list(KINDS))
        day = base + dt.timedelta(days=rng.randint(0, 240))
        (p1, c1), (p2, c2) = rng.sample(PLACES, 2)
        if any(abs((day - d).days) < 60 for p in (p1, p2) for d in used.get((kind, p), [])):
            continue
        for p in (p1, p2):
            used.setdefault((kind, p), []).append(day)
        first = make_incident(kind, p1, c1, day, rng)
        rows += reports(first, f"i{k}", day, rng, rng.randint(2, 9), args.updates)
        twin = make_incident(kind, p2, c2, day, rng)
        rows += reports(twin, f"i{k + 1}", day, rng, rng.randint(2, 9), args.updates)
        k += 2
        if rng.random() < 0.3:
            later = day + dt.timedelta(days=rng.randint(21, 42))
            used[(kind, p1)].append(later)
            esc = make_incident(kind, p1, c1, later, rng, actors=(first["person"], first["person2"]))
            rows += reports(esc, f"i{k}", later, rng, rng.randint(2, 7), args.updates)
            k += 1
    rows.sort(key=lambda r: r["published_at"])
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "articles.jsonl"), "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    print(f"{len(rows)} reports of {k} incidents -> {args.out}/articles.jsonl")


if __name__ == "__main__":
    main()
