//! A deterministic, seeded generator of labelled near-duplicate test data.
//!
//! It writes the kind of articles that fool a simhash: many articles from a small template
//! grammar (sports results, earnings notes, weather, police blotter, council notices),
//! each template with two independently written "house styles", sentences chosen among
//! alternatives, and facts (names, teams, numbers, places, dates) drawn at random. On top
//! of those it makes:
//! - syndicated variants of some articles: another outlet's template (its own header,
//!   byline and footer, an edited headline), plus a paragraph added, removed or
//!   reordered, a local intro on top, or a light copy-edit; each variant is labelled a
//!   copy of its base article and published after it;
//! - independent reports of the same incident (same facts, the other house style): not
//!   copies;
//! - short briefs and copies of them: not to be marked (under `dedup.min_words`).
//!
//! The random numbers come from a splitmix64 of our own rather than `rand`, whose
//! generators may change their output between versions: the set must stay the same.

/// A small deterministic random source (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// How a generated article relates to the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// An article of its own (a template instance, a brief, or an independent report).
    Original,
    /// A syndicated copy of the article with this index, made by `edits`.
    CopyOf { base: usize, edits: String },
    /// A copy of a short brief (below `min_words`): must not be marked.
    BriefCopyOf(usize),
    /// The same incident as the article with this index, written independently.
    SameIncidentAs(usize),
}

#[derive(Debug, Clone)]
pub struct Article {
    pub id: String,
    pub kind: &'static str,
    pub text: String,
    /// Minutes since the start of the evaluation period.
    pub published_minute: u64,
    pub label: Label,
}

type Facts = Vec<(&'static str, String)>;

const FIRST: &[&str] = &[
    "Anna", "Ben", "Carla", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Karin",
    "Lukas", "Maria", "Nils", "Olga", "Pavel", "Rosa", "Samir", "Tanja", "Umar", "Vera", "Walter",
    "Yusuf", "Zoe", "Marco", "Leila", "Tomas", "Hannah", "Ivan", "Sofia",
];
const LAST: &[&str] = &[
    "Keller",
    "Novak",
    "Brandt",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Petrov",
    "Santos",
    "Weber",
    "Costa",
    "Horvat",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Meyer",
    "Nakamura",
    "Ortiz",
    "Quinn",
    "Rossi",
    "Schulz",
    "Tanaka",
    "Varga",
    "Wolff",
    "Yilmaz",
    "Ziegler",
    "Dubois",
    "Fischer",
    "Haas",
    "Ivanova",
    "Berg",
];
const TEAMS: &[&str] = &[
    "Riverside Rovers",
    "Northgate United",
    "Eastfield Athletic",
    "Millbrook Town",
    "Harbour City",
    "Oakham Wanderers",
    "Stonebridge Rangers",
    "Westmoor Albion",
    "Kingsport Villa",
    "Ashford Celtic",
    "Brightwater FC",
    "Cedar Park",
    "Dunmore Thistle",
    "Elmstead Borough",
    "Fairhaven Wolves",
    "Glenrock Saints",
    "Highcliff Rovers",
    "Ironbridge Miners",
    "Larkhill Lions",
    "Marston Vale",
];
const TOWNS: &[&str] = &[
    "Riverside",
    "Northgate",
    "Eastfield",
    "Millbrook",
    "Harbour City",
    "Oakham",
    "Stonebridge",
    "Westmoor",
    "Kingsport",
    "Ashford",
    "Brightwater",
    "Cedar Falls",
    "Dunmore",
    "Elmstead",
    "Fairhaven",
    "Glenrock",
    "Highcliff",
    "Ironbridge",
    "Larkhill",
    "Marston",
];
const STREETS: &[&str] = &[
    "Station Road",
    "High Street",
    "Church Lane",
    "Mill Lane",
    "Park Avenue",
    "Victoria Road",
    "Queen Street",
    "Bridge Street",
    "Market Square",
    "Orchard Way",
    "Green Lane",
    "Harbour Street",
    "Kings Road",
    "School Lane",
    "North Street",
    "Elm Grove",
];
const COMPANIES: &[&str] = &[
    "Brightline Logistics",
    "Corvid Software",
    "Danube Foods",
    "Elevate Pharma",
    "Fjord Energy",
    "Granite Bank",
    "Helix Robotics",
    "Ironwood Timber",
    "Juniper Retail",
    "Kestrel Airlines",
    "Lumen Semiconductors",
    "Meridian Insurance",
    "Northwind Shipping",
    "Orbit Telecom",
    "Pioneer Steel",
    "Quartz Media",
    "Redwood Hotels",
    "Solace Health",
];
const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const ITEMS: &[&str] = &[
    "a laptop",
    "two bicycles",
    "power tools",
    "a handbag",
    "jewellery",
    "cash",
    "a television",
    "garden equipment",
    "a mobile phone",
    "car keys",
];
const WEATHER: &[&str] = &[
    "heavy rain",
    "sunny spells",
    "scattered showers",
    "thick fog",
    "strong winds",
    "light drizzle",
    "thunderstorms",
    "clear skies",
    "sleet",
    "low cloud",
];

fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
}

/// The facts of one article of `kind`: every slot its templates may use.
fn facts(kind: &str, rng: &mut Rng) -> Facts {
    let mut f: Facts = vec![
        ("day", rng.pick(DAYS).into()),
        ("month", rng.pick(MONTHS).into()),
        ("town", rng.pick(TOWNS).into()),
        ("person", person(rng)),
        ("person2", person(rng)),
        ("street", rng.pick(STREETS).into()),
    ];
    let mut add = |k: &'static str, v: String| f.push((k, v));
    match kind {
        "sports" => {
            let home = rng.below(TEAMS.len());
            let away = (home + 1 + rng.below(TEAMS.len() - 1)) % TEAMS.len();
            add("home", TEAMS[home].into());
            add("away", TEAMS[away].into());
            add("hg", rng.range(0, 5).to_string());
            add("ag", rng.range(0, 4).to_string());
            add("m1", rng.range(2, 44).to_string());
            add("m2", rng.range(46, 90).to_string());
            add(
                "crowd",
                format!("{},{:03}", rng.range(2, 40), rng.range(0, 999)),
            );
            add("pos", rng.range(1, 20).to_string());
            add("pts", rng.range(3, 70).to_string());
            add("next", TEAMS[rng.below(TEAMS.len())].into());
        }
        "earnings" => {
            add("company", rng.pick(COMPANIES).into());
            add("q", rng.range(1, 4).to_string());
            add("rev", format!("{}.{}", rng.range(1, 90), rng.range(0, 9)));
            add("revpct", rng.range(1, 25).to_string());
            add("profit", rng.range(5, 900).to_string());
            add(
                "eps",
                format!("{}.{:02}", rng.range(0, 4), rng.range(0, 99)),
            );
            add(
                "est",
                format!("{}.{:02}", rng.range(0, 4), rng.range(0, 99)),
            );
            add(
                "shares",
                format!("{}.{}", rng.range(1, 12), rng.range(0, 9)),
            );
            add("guide", format!("{}.{}", rng.range(2, 95), rng.range(0, 9)));
            add(
                "staff",
                format!("{},{:03}", rng.range(1, 60), rng.range(0, 999)),
            );
        }
        "weather" => {
            add("cond", rng.pick(WEATHER).into());
            add("cond2", rng.pick(WEATHER).into());
            add("high", (rng.range(0, 40) as i64 - 5).to_string());
            add("low", (rng.range(0, 32) as i64 - 12).to_string());
            add("wind", rng.range(5, 90).to_string());
            add("rain", rng.range(1, 60).to_string());
            add("hour", rng.range(1, 11).to_string());
            add("town2", rng.pick(TOWNS).into());
            add("uv", rng.range(1, 10).to_string());
        }
        "police" => {
            add("age", rng.range(17, 78).to_string());
            add("item", rng.pick(ITEMS).into());
            add("value", rng.range(80, 9000).to_string());
            add("hour", rng.range(1, 12).to_string());
            add("min", format!("{:02}", rng.range(0, 59)));
            add("ref", rng.range(100_000, 999_999).to_string());
            add("court", rng.pick(TOWNS).into());
            add("street2", rng.pick(STREETS).into());
        }
        _ => {
            add(
                "app",
                format!("{}/{:04}", rng.range(20, 26), rng.range(1, 9999)),
            );
            add("no", rng.range(1, 240).to_string());
            add("storeys", rng.range(1, 4).to_string());
            add("units", rng.range(2, 80).to_string());
            add("date", rng.range(1, 28).to_string());
            add("hour", rng.range(5, 8).to_string());
            add("cost", rng.range(10, 950).to_string());
            add("ward", rng.pick(TOWNS).into());
        }
    }
    f
}

/// Paragraphs of sentences; each sentence lists alternatives, `{slot}` marks a fact.
type Style = &'static [&'static [&'static [&'static str]]];

const SPORTS_A: Style = &[
    &[
        &[
            "{home} beat {away} {hg}-{ag} at home on {day}.",
            "{home} saw off {away} {hg}-{ag} on {day} afternoon.",
        ],
        &[
            "{person} opened the scoring after {m1} minutes.",
            "{person} put the hosts ahead in the {m1}th minute.",
        ],
    ],
    &[
        &[
            "The visitors pressed after the break, and {person2} struck in the {m2}th minute.",
            "{person2} replied for {away} after {m2} minutes, but it was not enough.",
        ],
        &[
            "A crowd of {crowd} watched the match at the {town} ground.",
            "The attendance at the {town} ground was {crowd}.",
        ],
    ],
    &[
        &[
            "The result leaves {home} in position {pos} of the table with {pts} points.",
            "{home} now sit {pos} in the league on {pts} points.",
        ],
        &[
            "Their next match is away at {next}.",
            "They travel to {next} next weekend.",
        ],
    ],
    &[
        &[
            "Manager {person2} said the team had shown character in the second half.",
            "Speaking afterwards, the manager praised the defence and the supporters.",
        ],
        &[
            "Tickets for the next home game go on sale in {month}.",
            "The club will announce its {month} fixtures next week.",
        ],
    ],
];
const SPORTS_B: Style = &[
    &[
        &[
            "It finished {hg}-{ag} between {home} and {away} in {town} on {day}.",
            "{away} left {town} on {day} with a {hg}-{ag} defeat against {home}.",
        ],
        &["A first-half goal from {person} after {m1} minutes set the tone."],
    ],
    &[
        &[
            "{person2} pulled one back late on, in minute {m2}, for a side that never stopped running.",
        ],
        &["{crowd} spectators turned out despite the weather."],
    ],
    &[&["With {pts} points, {home} climb to {pos} in the standings before facing {next}."]],
];
const EARNINGS_A: Style = &[
    &[
        &[
            "{company} reported revenue of {rev} billion euros for the {q} quarter, up {revpct} percent from a year earlier.",
            "Quarterly revenue at {company} rose {revpct} percent to {rev} billion euros in the {q} quarter.",
        ],
        &[
            "Net profit came in at {profit} million euros.",
            "The company booked a net profit of {profit} million euros.",
        ],
    ],
    &[
        &[
            "Earnings per share were {eps} euros, against analyst estimates of {est} euros.",
            "Analysts had expected earnings of {est} euros per share; the company delivered {eps} euros.",
        ],
        &[
            "Shares of {company} moved {shares} percent in early trading on {day}.",
            "The stock moved {shares} percent by midday on {day}.",
        ],
    ],
    &[
        &[
            "For the full year, the company now expects revenue of about {guide} billion euros.",
            "Management raised its full-year revenue outlook to {guide} billion euros.",
        ],
        &[
            "Chief executive {person} said demand remained strong in most markets.",
            "{person}, the chief executive, pointed to strong demand and lower costs.",
        ],
    ],
    &[
        &[
            "{company} employs about {staff} people and is based in {town}.",
            "The group, headquartered in {town}, has around {staff} employees.",
        ],
        &[
            "It will publish its next results in {month}.",
            "The next quarterly report is due in {month}.",
        ],
    ],
];
const EARNINGS_B: Style = &[
    &[
        &[
            "A {revpct} percent jump in sales lifted {company} to {rev} billion euros in its {q} quarter, with {profit} million euros left as profit.",
        ],
        &["That works out at {eps} euros a share; the consensus was {est} euros."],
    ],
    &[&[
        "Investors sent the stock {shares} percent higher on {day}, while the {town}-based firm, which has {staff} staff, lifted its sales target to {guide} billion euros.",
    ]],
    &[&["\"We are confident about the rest of the year,\" {person} told analysts on a call."]],
];
const WEATHER_A: Style = &[
    &[
        &[
            "{town} can expect {cond} on {day}, with highs of {high} degrees.",
            "{cond} will reach {town} on {day}, and temperatures will peak at {high} degrees.",
        ],
        &[
            "Overnight the temperature will fall to {low} degrees.",
            "Temperatures will drop to {low} degrees during the night.",
        ],
    ],
    &[
        &[
            "Winds will gust up to {wind} kilometres per hour near the coast.",
            "Gusts of {wind} kilometres per hour are possible on higher ground.",
        ],
        &[
            "Forecasters expect up to {rain} millimetres of rain by {hour} in the evening.",
            "Up to {rain} millimetres of rain could fall before {hour} pm.",
        ],
    ],
    &[
        &[
            "Further east, {town2} will see {cond2} for most of the day.",
            "In {town2} the day will bring {cond2}.",
        ],
        &[
            "The UV index will reach {uv}.",
            "A UV index of {uv} is forecast for the afternoon.",
        ],
    ],
    &[
        &[
            "Meteorologist {person} said the pattern would last into the weekend.",
            "The pattern is expected to continue until the weekend, meteorologist {person} said.",
        ],
        &[
            "Drivers are advised to allow extra time on {street}.",
            "Motorists should take care on {street} and nearby roads.",
        ],
    ],
];
const WEATHER_B: Style = &[
    &[
        &[
            "Expect {cond} over {town} this {day}: the mercury tops out at {high} degrees and sinks to {low} after dark.",
        ],
        &["Gusts near {wind} kilometres per hour and {rain} millimetres of rain are on the cards."],
    ],
    &[&["{town2} gets {cond2} instead, and the UV index climbs to {uv}, according to {person}."]],
];
const POLICE_A: Style = &[
    &[
        &[
            "Police in {town} are appealing for witnesses after a burglary on {street} on {day}.",
            "Officers are looking for witnesses to a break-in on {street}, {town}, on {day}.",
        ],
        &[
            "Between {hour}:{min} and midnight, {item} worth about {value} euros was taken from a house.",
            "The thieves took {item}, valued at around {value} euros, at about {hour}:{min}.",
        ],
    ],
    &[
        &[
            "A {age}-year-old man from {town} was arrested on {street2} the following morning.",
            "The next morning officers arrested a man, {age}, on {street2}.",
        ],
        &[
            "He is due to appear before magistrates in {court} in {month}.",
            "He will appear at {court} magistrates' court in {month}.",
        ],
    ],
    &[
        &[
            "Detective {person} asked anyone with doorbell footage to get in touch.",
            "Anyone with camera footage should contact detective {person}.",
        ],
        &[
            "Information can be given quoting reference {ref}.",
            "Callers should quote crime reference {ref}.",
        ],
    ],
    &[&[
        "Residents of {street} said it was the second incident in the area this year.",
        "Neighbour {person2} said the street had felt safe until now.",
    ]],
];
const POLICE_B: Style = &[
    &[
        &[
            "Burglars struck a home on {street} in {town} on {day} at around {hour}:{min}, making off with {item} (about {value} euros).",
        ],
        &["Hours later a {age}-year-old was detained on {street2}."],
    ],
    &[&[
        "The suspect faces {court} magistrates in {month}; {person} of the local force wants to hear from witnesses, reference {ref}.",
    ]],
];
const COUNCIL_A: Style = &[
    &[
        &[
            "Notice is given that an application ({app}) has been made for {no} {street}, {town}.",
            "Planning application {app} concerns {no} {street} in {town}.",
        ],
        &[
            "The applicant, {person}, seeks permission for a {storeys}-storey building with {units} flats.",
            "{person} has applied to build {units} flats on {storeys} storeys.",
        ],
    ],
    &[
        &[
            "Plans can be inspected at the civic centre until {date} {month}.",
            "The documents are open for inspection until {date} {month}.",
        ],
        &[
            "Comments must be made in writing to the planning officer, {person2}.",
            "Written objections should be sent to {person2}, planning officer.",
        ],
    ],
    &[
        &[
            "The planning committee will consider the application at {hour} pm on {day}.",
            "A decision is expected at the committee meeting on {day} at {hour} pm.",
        ],
        &[
            "The estimated cost of the works is {cost} thousand euros.",
            "The works are valued at {cost} thousand euros.",
        ],
    ],
    &[&[
        "Residents of {ward} ward will be notified by letter.",
        "Households in {ward} ward will receive a letter.",
    ]],
];
const COUNCIL_B: Style = &[&[
    &[
        "{person} wants to put up {units} flats over {storeys} floors at {no} {street}, {town}, under application {app}, at a cost of {cost} thousand euros.",
    ],
    &[
        "Objections go to {person2} by {date} {month}; councillors decide on {day} at {hour} pm, and {ward} ward residents will be written to.",
    ],
]];

const KINDS: &[(&str, Style, Style)] = &[
    ("sports", SPORTS_A, SPORTS_B),
    ("earnings", EARNINGS_A, EARNINGS_B),
    ("weather", WEATHER_A, WEATHER_B),
    ("police", POLICE_A, POLICE_B),
    ("council", COUNCIL_A, COUNCIL_B),
];

fn fill(template: &str, facts: &Facts) -> String {
    let mut out = template.to_string();
    for (slot, value) in facts {
        out = out.replace(&format!("{{{slot}}}"), value);
    }
    out
}

fn render(style: Style, facts: &Facts, rng: &mut Rng) -> Vec<String> {
    style
        .iter()
        .map(|paragraph| {
            paragraph
                .iter()
                .map(|sentence| fill(rng.pick(sentence), facts))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

const OUTLETS: &[(&str, &str)] = &[
    (
        "The Valley Courier",
        "Share this article\nFollow us for more local news",
    ),
    (
        "Northern Gazette",
        "Sign up for our morning briefing\nRead more from the Gazette",
    ),
    (
        "Metro Daily",
        "Comments are closed on this story\nMore from Metro Daily",
    ),
    (
        "Coastline News",
        "Get the app for breaking news\nAll rights reserved",
    ),
];

/// An outlet's rendering of `paragraphs`: headline, byline, body, footer.
fn publish(headline: &str, paragraphs: &[String], outlet: usize, byline: &str) -> String {
    let (name, footer) = OUTLETS[outlet % OUTLETS.len()];
    format!(
        "{headline}\nBy {byline}, {name}\n{}\n{footer}\nCopyright {name}",
        paragraphs.join("\n")
    )
}

fn headline(kind: &str, facts: &Facts) -> String {
    let get = |k: &str| {
        facts
            .iter()
            .find(|(slot, _)| *slot == k)
            .map_or("", |(_, v)| v.as_str())
            .to_string()
    };
    match kind {
        "sports" => format!(
            "{} {}-{} {}",
            get("home"),
            get("hg"),
            get("ag"),
            get("away")
        ),
        "earnings" => format!(
            "{} quarterly revenue up {} percent",
            get("company"),
            get("revpct")
        ),
        "weather" => format!("{} for {} on {}", get("cond"), get("town"), get("day")),
        "police" => format!("Burglary on {}: man arrested", get("street")),
        _ => format!("Planning notice: {} {}", get("no"), get("street")),
    }
}

/// The labelled set: `originals` template articles (plus an independent report for some),
/// `variants` syndicated copies of randomly chosen originals, and `briefs` short briefs
/// each with a copy.
pub fn generate(seed: u64, originals: usize, variants: usize, briefs: usize) -> Vec<Article> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<Article> = Vec::new();
    // Per original: kind, facts, paragraphs, headline (kept to build variants).
    let mut bases: Vec<(usize, &'static str, Vec<String>, String)> = Vec::new();
    for n in 0..originals {
        let (kind, style_a, style_b) = KINDS[n % KINDS.len()];
        let f = facts(kind, &mut rng);
        let paragraphs = render(style_a, &f, &mut rng);
        let head = headline(kind, &f);
        let outlet = rng.below(OUTLETS.len());
        let byline = person(&mut rng);
        let minute = rng.range(0, 60 * 24 * 30);
        let index = out.len();
        out.push(Article {
            id: format!("{kind}-{n:05}"),
            kind,
            text: publish(&head, &paragraphs, outlet, &byline),
            published_minute: minute,
            label: Label::Original,
        });
        bases.push((index, kind, paragraphs, head));
        // Every tenth incident is also reported independently by another outlet.
        if n % 10 == 3 {
            let other = render(style_b, &f, &mut rng);
            let byline = person(&mut rng);
            out.push(Article {
                id: format!("{kind}-{n:05}-independent"),
                kind,
                text: publish(&headline(kind, &f), &other, outlet + 1, &byline),
                published_minute: minute + rng.range(0, 600),
                label: Label::SameIncidentAs(index),
            });
        }
    }
    for v in 0..variants {
        let (base, kind, paragraphs, head) = &bases[rng.below(bases.len())];
        let mut body = paragraphs.clone();
        let mut edits = vec!["other outlet"];
        let edit = v % 5;
        if edit == 0 || rng.chance(20) {
            let extra = "Further details were not immediately available, and the matter \
                is expected to be discussed again at the next regular meeting.";
            let at = rng.below(body.len() + 1);
            body.insert(at, extra.to_string());
            edits.push("paragraph added");
        }
        if edit == 1 && body.len() > 2 {
            let at = 1 + rng.below(body.len() - 1);
            body.remove(at);
            edits.push("paragraph removed");
        }
        if edit == 2 {
            let i = rng.below(body.len());
            let j = (i + 1 + rng.below(body.len() - 1)) % body.len();
            body.swap(i, j);
            edits.push("paragraphs reordered");
        }
        if edit == 3 || rng.chance(20) {
            let intro = format!(
                "Readers in {} have been following this closely. Our reporter {} adds local \
                 reaction below, after the agency report.",
                rng.pick(TOWNS),
                person(&mut rng)
            );
            body.insert(0, intro);
            edits.push("local intro");
        }
        if edit == 4 {
            // A copy-editor's touch: one sentence reworded.
            let at = rng.below(body.len());
            body[at] = body[at]
                .replacen(" said ", " told reporters ", 1)
                .replacen(" on ", " this ", 1)
                .replacen(" percent", "%", 1);
            edits.push("copy-edited");
        }
        let new_head = format!("{head} (update)");
        let byline = person(&mut rng);
        let outlet = rng.below(OUTLETS.len());
        let minute = out[*base].published_minute + rng.range(5, 60 * 24);
        out.push(Article {
            id: format!("{kind}-variant-{v:04}"),
            kind,
            text: publish(&new_head, &body, outlet, &byline),
            published_minute: minute,
            label: Label::CopyOf {
                base: *base,
                edits: edits.join(" + "),
            },
        });
    }
    for b in 0..briefs {
        let (kind, _, _) = KINDS[b % KINDS.len()];
        let f = facts(kind, &mut rng);
        let text = format!(
            "{}\nIn brief: {} reported from {} on {}.",
            headline(kind, &f),
            person(&mut rng),
            rng.pick(TOWNS),
            rng.pick(DAYS)
        );
        let minute = rng.range(0, 60 * 24 * 30);
        let index = out.len();
        out.push(Article {
            id: format!("brief-{b:04}"),
            kind: "brief",
            text: text.clone(),
            published_minute: minute,
            label: Label::Original,
        });
        out.push(Article {
            id: format!("brief-{b:04}-copy"),
            kind: "brief",
            text: format!("{text}\nShare this article"),
            published_minute: minute + 30,
            label: Label::BriefCopyOf(index),
        });
    }
    out
}
