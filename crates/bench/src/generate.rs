//! Deterministic generator of news sites: RSS feeds and article pages.
//!
//! Every page is a pure function of `(feed, seq)`, so the server needs no storage and the
//! in-process extractor run sees exactly the bytes the pipeline fetched. Pages are 20–150 KB
//! and come in three templates (broadsheet, portal div-soup, wire/blog) wrapped in the usual
//! boilerplate: navigation, ad slots, share buttons, cookie banners, newsletter boxes,
//! "most read" lists, footers and inline script state. The prose is generated from a small
//! grammar over topic vocabularies written for this benchmark, varied enough that different
//! articles do not look like near-duplicates to a 64-bit simhash.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, TimeZone, Utc};

/// SplitMix64: tiny, fast and stable across releases, which matters because the pages must
/// be the same bytes in every run and every version of the benchmark (rand's `StdRng` makes
/// no such promise).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn seed_of(feed: u32, seq: u64, salt: u64) -> u64 {
    (u64::from(feed) << 40) ^ seq.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ salt
}

const FIRST_NAMES: &[&str] = &[
    "Amara", "Bogdan", "Clara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi", "Ines", "Jonas",
    "Kemal", "Lucia", "Marek", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tamara",
    "Ulrich", "Vera", "Wen", "Ximena", "Yusuf", "Zofia", "Anton", "Beatriz", "Colm", "Dalia",
];
const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Castellano",
    "Novak",
    "Haddad",
    "Brennan",
    "Yamada",
    "Kowalczyk",
    "Ferreira",
    "Abernethy",
    "Delacroix",
    "Mbeki",
    "Sorensen",
    "Varga",
    "Quispe",
    "Richter",
    "Tanaka",
    "Oyelaran",
    "Petrescu",
    "Whitlock",
    "Ibarra",
    "Halloran",
    "Szabo",
];
const PLACES: &[&str] = &[
    "Northgate",
    "the river district",
    "Eastholm",
    "the harbour quarter",
    "Millbrook",
    "the old town",
    "Westmere",
    "the northern suburbs",
    "Kingsford",
    "the valley towns",
    "Ashby Cross",
    "the coastal villages",
    "Redfern Park",
    "the industrial estate",
];
const WHEN: &[&str] = &[
    "on Tuesday",
    "late on Friday",
    "earlier this week",
    "last month",
    "on Monday morning",
    "over the weekend",
    "in the spring",
    "since January",
    "for the third year running",
    "after months of delay",
    "within hours",
    "by the end of the year",
];
const CONNECTORS: &[&str] = &[
    "However,",
    "Meanwhile,",
    "At the same time,",
    "According to officials,",
    "In a statement,",
    "By contrast,",
    "For now,",
    "Even so,",
    "As a result,",
    "In recent years,",
];

const SYLLABLES: &[&str] = &[
    "var", "en", "holt", "mir", "ska", "dal", "bre", "oth", "lin", "gar", "tuv", "esk", "ron",
    "wyn", "ast", "mel", "kor", "ith", "pal", "zen", "bro", "uld", "fen", "sar", "qui", "ber",
    "nov", "ach", "tel", "ims", "dor", "vek",
];
const ADJECTIVES: &[&str] = &[
    "new",
    "long-awaited",
    "controversial",
    "revised",
    "temporary",
    "costly",
    "modest",
    "ambitious",
    "disputed",
    "regional",
    "overdue",
    "expanded",
    "scaled-back",
    "second",
    "pilot",
    "unexpected",
    "annual",
    "emergency",
    "preliminary",
    "final",
    "much-criticised",
    "popular",
    "delayed",
    "joint",
    "independent",
    "interim",
    "detailed",
    "limited",
    "broader",
    "formal",
    "fresh",
    "sweeping",
];
const ADVERBS: &[&str] = &[
    "quietly",
    "formally",
    "narrowly",
    "again",
    "finally",
    "partly",
    "openly",
    "swiftly",
    "reluctantly",
    "unanimously",
    "provisionally",
    "publicly",
    "already",
    "repeatedly",
];

/// A made-up proper name (street, village, company), so that articles of one topic do not
/// share most of their word shingles.
fn coined(rng: &mut Rng) -> String {
    let mut word = String::new();
    for _ in 0..rng.range(2, 3) {
        word.push_str(rng.pick(SYLLABLES));
    }
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => word,
    }
}

struct Topic {
    section: &'static str,
    actors: &'static [&'static str],
    verbs: &'static [&'static str],
    objects: &'static [&'static str],
    details: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        section: "Transport",
        actors: &[
            "the transit authority",
            "commuters",
            "the rail operator",
            "bus drivers",
            "the transport minister",
            "cycling groups",
        ],
        verbs: &[
            "postponed",
            "approved",
            "criticised",
            "announced",
            "extended",
            "suspended",
            "redesigned",
        ],
        objects: &[
            "the tram extension",
            "night bus routes",
            "the fare increase",
            "a new timetable",
            "the bridge repairs",
            "signal upgrades",
        ],
        details: &[
            "carrying about forty thousand passengers a day",
            "at a cost of several million",
            "with two stations closing temporarily",
            "while ticket machines are replaced",
        ],
    },
    Topic {
        section: "Health",
        actors: &[
            "hospital managers",
            "the health board",
            "nurses",
            "family doctors",
            "researchers at the university clinic",
            "patient groups",
        ],
        verbs: &[
            "warned about",
            "welcomed",
            "called for",
            "reviewed",
            "reported",
            "expanded",
            "questioned",
        ],
        objects: &[
            "waiting times for surgery",
            "the vaccination campaign",
            "emergency staffing",
            "a new maternity ward",
            "funding for mental health services",
            "the winter flu season",
        ],
        details: &[
            "with admissions up by a fifth",
            "as several wards ran short of beds",
            "after an inspection last autumn",
            "despite a recruitment drive abroad",
        ],
    },
    Topic {
        section: "Business",
        actors: &[
            "the chamber of commerce",
            "shareholders",
            "the regional bank",
            "small retailers",
            "the steel plant",
            "logistics firms",
        ],
        verbs: &[
            "cut",
            "raised",
            "forecast",
            "invested in",
            "delayed",
            "sold",
            "restructured",
        ],
        objects: &[
            "quarterly profits",
            "its workforce",
            "energy prices",
            "a warehouse project",
            "export orders",
            "the pension scheme",
        ],
        details: &[
            "citing weaker demand from abroad",
            "while interest rates remain high",
            "in a deal worth an undisclosed sum",
            "as suppliers struggled with shortages",
        ],
    },
    Topic {
        section: "Environment",
        actors: &[
            "conservationists",
            "the water utility",
            "farmers",
            "the environment agency",
            "volunteers",
            "the national park service",
        ],
        verbs: &[
            "measured",
            "restored",
            "protested against",
            "monitored",
            "planted",
            "cleaned up",
            "documented",
        ],
        objects: &[
            "river pollution",
            "the wetland reserve",
            "a wind farm proposal",
            "nesting sites of rare birds",
            "drought restrictions",
            "an old quarry",
        ],
        details: &[
            "after heavy rain flushed sediment downstream",
            "with help from local schools",
            "along a twelve kilometre stretch",
            "during the driest summer on record",
        ],
    },
    Topic {
        section: "Courts",
        actors: &[
            "prosecutors",
            "the defence",
            "the appeals court",
            "a jury",
            "the presiding judge",
            "the city's lawyers",
        ],
        verbs: &[
            "rejected",
            "upheld",
            "adjourned",
            "examined",
            "challenged",
            "dismissed",
            "heard",
        ],
        objects: &[
            "the fraud case",
            "testimony from a former manager",
            "the planning appeal",
            "evidence from the warehouse",
            "the injunction",
            "the compensation claim",
        ],
        details: &[
            "in a hearing that lasted two days",
            "citing procedural errors",
            "before a packed public gallery",
            "pending a ruling next month",
        ],
    },
    Topic {
        section: "Culture",
        actors: &[
            "the city orchestra",
            "museum curators",
            "a local theatre company",
            "the film festival",
            "librarians",
            "an independent publisher",
        ],
        verbs: &[
            "premiered",
            "restored",
            "acquired",
            "celebrated",
            "reopened",
            "commissioned",
            "toured",
        ],
        objects: &[
            "a forgotten opera",
            "a collection of medieval maps",
            "the renovated concert hall",
            "a season of silent films",
            "the poetry prize",
            "a mural by young artists",
        ],
        details: &[
            "drawing visitors from across the region",
            "after a fundraising campaign",
            "with free entry on Sundays",
            "in a programme that runs until March",
        ],
    },
    Topic {
        section: "Sport",
        actors: &[
            "the home side",
            "the visiting team",
            "the club's new coach",
            "supporters",
            "the league",
            "the young striker",
        ],
        verbs: &[
            "defeated",
            "drew with",
            "signed",
            "fined",
            "promoted",
            "lost to",
            "appealed against",
        ],
        objects: &[
            "their closest rivals",
            "a veteran goalkeeper",
            "the stadium expansion",
            "the disciplinary ruling",
            "a title contender",
            "the transfer fee",
        ],
        details: &[
            "in front of a sold-out crowd",
            "despite playing with ten men",
            "in the final minutes",
            "for the first time in a decade",
        ],
    },
    Topic {
        section: "Science",
        actors: &[
            "astronomers",
            "the research institute",
            "a team of geologists",
            "marine biologists",
            "engineers",
            "the space agency",
        ],
        verbs: &[
            "discovered",
            "tested",
            "published",
            "mapped",
            "launched",
            "measured",
            "simulated",
        ],
        objects: &[
            "a faint companion star",
            "a prototype battery",
            "the seabed off the coast",
            "fossilised footprints",
            "a weather satellite",
            "ice cores from the glacier",
        ],
        details: &[
            "using data collected over six years",
            "in a paper released this week",
            "with instruments built in the region",
            "at temperatures far below freezing",
        ],
    },
];

const SECTIONS: &[&str] = &[
    "News",
    "World",
    "Politics",
    "Business",
    "Tech",
    "Science",
    "Health",
    "Sport",
    "Culture",
    "Opinion",
    "Travel",
    "Food",
    "Climate",
    "Education",
    "Local",
    "Weather",
    "Podcasts",
    "Video",
];

/// One article's identity and metadata, shared by its feed item and its page.
pub struct ArticleMeta {
    pub title: String,
    pub author: String,
    pub published: DateTime<Utc>,
    pub section: &'static str,
    pub summary: String,
    pub path: String,
    topic: usize,
}

/// The site (and template) a feed belongs to.
pub fn site_of(feed: u32) -> u32 {
    feed
}

fn site_name(feed: u32) -> String {
    let mut rng = Rng::new(u64::from(site_of(feed)) * 7919);
    let prefix = rng.pick(&[
        "The", "Daily", "Evening", "Weekly", "Metro", "Coastal", "Valley",
    ]);
    let noun = rng.pick(&[
        "Courier",
        "Herald",
        "Observer",
        "Ledger",
        "Gazette",
        "Chronicle",
        "Post",
        "Dispatch",
        "Record",
    ]);
    format!("{prefix} {noun} {}", site_of(feed) % 1000)
}

fn person(rng: &mut Rng) -> String {
    if rng.chance(50) {
        format!("{} {}", rng.pick(FIRST_NAMES), coined(rng))
    } else {
        format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
    }
}

/// When article `seq` of a feed was published: one every three hours back from a fixed day.
fn published(feed: u32, seq: u64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2026, 1, 1, 6, 0, 0)
        .single()
        .unwrap_or_default();
    base + Duration::hours(3 * seq as i64) + Duration::minutes(i64::from(feed % 173))
}

pub fn article_meta(feed: u32, seq: u64) -> ArticleMeta {
    let mut rng = Rng::new(seed_of(feed, seq, 1));
    let topic = rng.below(TOPICS.len());
    let t = &TOPICS[topic];
    let actor = rng.pick(t.actors);
    let title = format!(
        "{}{} {} {} in {}",
        actor[..1].to_uppercase(),
        &actor[1..],
        rng.pick(t.verbs),
        rng.pick(t.objects),
        rng.pick(PLACES)
    );
    let author = person(&mut rng);
    let summary = sentence(&mut rng, t);
    let published = published(feed, seq);
    let slug: String = title
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    let path = format!(
        "/a/{feed}/{seq}/{}/{slug}.html",
        published.format("%Y/%m/%d")
    );
    ArticleMeta {
        title,
        author,
        published,
        section: t.section,
        summary,
        path,
        topic,
    }
}

fn sentence(rng: &mut Rng, t: &Topic) -> String {
    let mut s = String::with_capacity(160);
    if rng.chance(25) {
        s.push_str(rng.pick(CONNECTORS));
        s.push(' ');
    }
    let actor = rng.pick(t.actors);
    if s.is_empty() {
        s.push_str(&actor[..1].to_uppercase());
        s.push_str(&actor[1..]);
    } else {
        s.push_str(actor);
    }
    if rng.chance(30) {
        let _ = write!(s, " of {}", coined(rng));
    }
    if rng.chance(35) {
        let _ = write!(s, " {}", rng.pick(ADVERBS));
    }
    let _ = write!(s, " {}", rng.pick(t.verbs));
    let object = rng.pick(t.objects);
    match (
        rng.chance(50),
        object
            .strip_prefix("the ")
            .or_else(|| object.strip_prefix("a ")),
    ) {
        (true, Some(rest)) => {
            let _ = write!(s, " the {} {rest}", rng.pick(ADJECTIVES));
        }
        _ => {
            let _ = write!(s, " {object}");
        }
    }
    if rng.chance(40) {
        let _ = write!(
            s,
            " near {} {}",
            coined(rng),
            rng.pick(&["Street", "Road", "Square", "Bridge", "Lane", "Park"])
        );
    }
    match rng.below(6) {
        0 => {
            let _ = write!(s, " in {}", rng.pick(PLACES));
        }
        1 => {
            let _ = write!(s, " {}", rng.pick(WHEN));
        }
        2 => {
            let _ = write!(s, ", {}", rng.pick(t.details));
        }
        3 => {
            let _ = write!(
                s,
                ", said {}, who has followed the issue for {} years",
                person(rng),
                rng.range(2, 30)
            );
        }
        4 => {
            let _ = write!(s, " {} and {}", rng.pick(WHEN), rng.pick(t.details));
        }
        _ => {
            let _ = write!(
                s,
                ", a figure of {} per cent compared with {} a year earlier",
                rng.range(3, 97),
                rng.range(3, 97)
            );
        }
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut Rng, t: &Topic) -> String {
    let n = rng.range(2, 6);
    let mut p = String::with_capacity(n * 160);
    for i in 0..n {
        if i > 0 {
            p.push(' ');
        }
        if rng.chance(12) {
            let _ = write!(
                p,
                "\u{201C}{}\u{201D} {} told reporters.",
                sentence(rng, t).trim_end_matches('.'),
                person(rng)
            );
        } else {
            p.push_str(&sentence(rng, t));
        }
    }
    p
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Headlines of other (fictional) articles, for "most read", related and teaser boxes.
fn teaser_headline(rng: &mut Rng) -> String {
    let t = &TOPICS[rng.below(TOPICS.len())];
    let actor = rng.pick(t.actors);
    format!(
        "{}{} {} {}",
        actor[..1].to_uppercase(),
        &actor[1..],
        rng.pick(t.verbs),
        rng.pick(t.objects)
    )
}

fn nav(rng: &mut Rng, class: &str, links: (usize, usize)) -> String {
    let links = rng.range(links.0, links.1);
    let mut out = format!("<nav class=\"{class}\"><ul>");
    for i in 0..links {
        let section = SECTIONS[(i + rng.below(3)) % SECTIONS.len()];
        let _ = write!(
            out,
            "<li class=\"{class}__item\"><a href=\"/section/{}/{i}\">{section}</a></li>",
            section.to_ascii_lowercase()
        );
    }
    out.push_str("</ul></nav>");
    out
}

fn share_buttons() -> &'static str {
    "<div class=\"share-tools\" aria-label=\"Share this article\"><span>Share</span>\
     <a class=\"share share--facebook\" href=\"#\">Facebook</a><a class=\"share share--x\" href=\"#\">X</a>\
     <a class=\"share share--mail\" href=\"#\">Email</a><a class=\"share share--copy\" href=\"#\">Copy link</a>\
     <button class=\"share share--print\">Print</button></div>"
}

fn newsletter_box(site: &str) -> String {
    format!(
        "<aside class=\"newsletter-signup\"><h3>Get the morning briefing</h3><p>Sign up for the {site} \
         newsletter: the day's most important stories in your inbox before breakfast.</p>\
         <form action=\"/newsletter\" method=\"post\"><input type=\"email\" name=\"email\" placeholder=\"Your email address\">\
         <button type=\"submit\">Subscribe</button></form><p class=\"small\">You can unsubscribe at any time. \
         Read our privacy policy.</p></aside>"
    )
}

fn cookie_banner() -> &'static str {
    "<div id=\"cookie-consent\" class=\"consent-banner\" role=\"dialog\"><p>We use cookies and similar \
     technologies to personalise content and ads, to provide social media features and to analyse our \
     traffic. By clicking Accept you agree to this.</p><button class=\"accept\">Accept all</button>\
     <button class=\"reject\">Reject</button><a href=\"/privacy\">Manage settings</a></div>"
}

fn ad_slot(rng: &mut Rng, name: &str) -> String {
    format!(
        "<div class=\"ad-slot ad-slot--{name}\" data-ad-unit=\"/{}/news/{name}\"><span class=\"ad-label\">Advertisement</span>\
         <script>window.adq=window.adq||[];adq.push({{slot:'{name}',sizes:[[300,250],[728,90]],pos:{}}});</script></div>",
        rng.range(1000, 9999),
        rng.below(9)
    )
}

fn most_read(rng: &mut Rng, items: (usize, usize)) -> String {
    let items = rng.range(items.0, items.1);
    let mut out = String::from("<aside class=\"most-read\"><h2>Most read</h2><ol>");
    for i in 0..items {
        let _ = write!(
            out,
            "<li><a href=\"/story/{}\">{}</a></li>",
            rng.range(10_000, 99_999) + i,
            escape(&teaser_headline(rng))
        );
    }
    out.push_str("</ol></aside>");
    out
}

fn footer(rng: &mut Rng, site: &str, links: (usize, usize)) -> String {
    let links = rng.range(links.0, links.1);
    let mut out = String::from("<footer class=\"site-footer\"><div class=\"footer-links\">");
    for i in 0..links {
        let _ = write!(
            out,
            "<a href=\"/info/{i}\">{}</a> ",
            rng.pick(&[
                "About us",
                "Contact",
                "Careers",
                "Advertise",
                "Terms of use",
                "Privacy",
                "Corrections",
                "Archive",
                "RSS",
                "Accessibility",
                "Help",
                "Subscriptions"
            ])
        );
    }
    let _ = write!(
        out,
        "</div><p>&copy; 2026 {site}. All rights reserved. No part of this site may be reproduced without permission.</p></footer>"
    );
    out
}

/// Inline script state of the kind real sites embed (hydration data, teaser lists), sized
/// so that the page reaches its target size.
fn state_blob(rng: &mut Rng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 256);
    out.push_str("<script>window.__PRELOADED_STATE__={\"teasers\":[");
    let mut first = true;
    while out.len() < bytes {
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(
            out,
            "{{\"id\":{},\"headline\":\"{}\",\"kicker\":\"{}\",\"img\":\"/img/{}x{}/{}.jpg\",\"premium\":{}}}",
            rng.next_u64() % 10_000_000,
            teaser_headline(rng),
            rng.pick(SECTIONS),
            rng.range(200, 1600),
            rng.range(100, 900),
            rng.next_u64() % 1_000_000,
            rng.chance(20)
        );
    }
    out.push_str("]};</script>");
    out
}

/// The article page of `(feed, seq)`. `origin` is `http://host:port`.
pub fn page(feed: u32, seq: u64, origin: &str) -> String {
    let meta = article_meta(feed, seq);
    let mut rng = Rng::new(seed_of(feed, seq, 2));
    let t = &TOPICS[meta.topic];
    let site = site_name(feed);
    // Target size: mostly 30–80 KB, a tail up to 150 KB, never under 20 KB.
    let target = match rng.below(10) {
        0..=1 => rng.range(20_000, 35_000),
        2..=7 => rng.range(35_000, 80_000),
        _ => rng.range(80_000, 150_000),
    };
    let paragraphs = body(&mut rng, t);
    let url = format!("{origin}{}", meta.path);
    let mut html = match site_of(feed) % 3 {
        0 => broadsheet(&mut rng, &meta, &site, &url, &paragraphs),
        1 => portal(&mut rng, &meta, &site, &url, &paragraphs),
        _ => wire(&mut rng, &meta, &site, &url, &paragraphs),
    };
    let missing = target.saturating_sub(html.len() + 64);
    if missing > 0 {
        let blob = state_blob(&mut rng, missing);
        if let Some(at) = html.rfind("</body>") {
            html.insert_str(at, &blob);
        }
    }
    html
}

/// The article's paragraphs (drawn right after the size target, so that `page` and
/// [`article_paragraphs`] see the same text).
fn body(rng: &mut Rng, t: &Topic) -> Vec<String> {
    (0..rng.range(5, 28)).map(|_| paragraph(rng, t)).collect()
}

/// The prose of `(feed, seq)` as the page carries it, one paragraph a line (what the
/// extractor should find).
pub fn article_paragraphs(feed: u32, seq: u64) -> Vec<String> {
    let meta = article_meta(feed, seq);
    let mut rng = Rng::new(seed_of(feed, seq, 2));
    let _target = rng.below(10);
    let _size = rng.next_u64();
    body(&mut rng, &TOPICS[meta.topic])
}

fn head(meta: &ArticleMeta, site: &str, url: &str, extra: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} | {site}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{summary}\"><link rel=\"canonical\" href=\"{url}\">\
         <meta property=\"og:type\" content=\"article\"><meta property=\"og:title\" content=\"{title}\">\
         <meta property=\"og:site_name\" content=\"{site}\"><meta property=\"og:url\" content=\"{url}\">\
         <link rel=\"stylesheet\" href=\"/static/main.css\"><style>.ad-slot{{min-height:250px}}.consent-banner{{position:fixed;bottom:0}}</style>\
         {extra}</head>",
        title = escape(&meta.title),
        summary = escape(&meta.summary),
    )
}

fn broadsheet(
    rng: &mut Rng,
    meta: &ArticleMeta,
    site: &str,
    url: &str,
    paragraphs: &[String],
) -> String {
    let mut out = head(
        meta,
        site,
        url,
        &format!(
            "<meta property=\"article:published_time\" content=\"{}\"><meta name=\"author\" content=\"{}\">",
            meta.published.to_rfc3339(),
            meta.author
        ),
    );
    out.push_str("<body class=\"article-page\">");
    let _ = write!(
        out,
        "<header class=\"masthead\"><a class=\"logo\" href=\"/\">{site}</a>{}<div class=\"ticker\">Breaking: {}</div></header>",
        nav(rng, "primary-nav", (20, 50)),
        escape(&teaser_headline(rng))
    );
    out.push_str(&ad_slot(rng, "leaderboard"));
    let _ = write!(
        out,
        "<main><article class=\"story\"><p class=\"kicker\">{}</p><h1 class=\"headline\">{}</h1>\
         <p class=\"standfirst\">{}</p><div class=\"byline\">By <a rel=\"author\" href=\"/people/{}\">{}</a> \
         <time datetime=\"{}\">{}</time></div>",
        meta.section,
        escape(&meta.title),
        escape(&meta.summary),
        meta.author.to_ascii_lowercase().replace(' ', "-"),
        meta.author,
        meta.published.to_rfc3339(),
        meta.published.format("%e %B %Y, %H:%M")
    );
    let _ = write!(
        out,
        "<figure class=\"lead-image\"><img src=\"/img/{}.jpg\" alt=\"\"><figcaption>{} Photograph: {} / Agency</figcaption></figure>",
        rng.next_u64() % 1_000_000,
        escape(&teaser_headline(rng)),
        person(rng)
    );
    out.push_str(share_buttons());
    out.push_str("<div class=\"story-body\">");
    for (i, p) in paragraphs.iter().enumerate() {
        let _ = write!(out, "<p>{}</p>", escape(p));
        if i == 2 {
            let _ = write!(
                out,
                "<p class=\"related-inline\"><strong>Read more:</strong> <a href=\"/story/{}\">{}</a></p>",
                rng.range(1000, 99999),
                escape(&teaser_headline(rng))
            );
        }
        if i == 4 {
            out.push_str(&ad_slot(rng, "mpu"));
        }
        if i > 0 && i % 7 == 0 {
            let _ = write!(out, "<h2>{}</h2>", escape(&teaser_headline(rng)));
        }
    }
    out.push_str("</div>");
    out.push_str(share_buttons());
    out.push_str("</article>");
    out.push_str(&newsletter_box(site));
    out.push_str(&most_read(rng, (10, 10)));
    out.push_str("</main>");
    out.push_str(&footer(rng, site, (30, 80)));
    out.push_str(cookie_banner());
    out.push_str("<script src=\"/static/app.js\" async></script></body></html>");
    out
}

fn portal(
    rng: &mut Rng,
    meta: &ArticleMeta,
    site: &str,
    url: &str,
    paragraphs: &[String],
) -> String {
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": meta.title,
        "datePublished": meta.published.to_rfc3339(),
        "author": [{"@type": "Person", "name": meta.author}],
        "publisher": {"@type": "Organization", "name": site},
        "mainEntityOfPage": url,
    });
    let mut out = head(
        meta,
        site,
        url,
        &format!("<script type=\"application/ld+json\">{ld}</script>"),
    );
    out.push_str("<body><div id=\"app\"><div class=\"container\"><div class=\"row header-row\"><div class=\"col-12\">");
    let _ = write!(out, "<div class=\"brand\">{site}</div>");
    out.push_str(&nav(rng, "menu", (30, 70)));
    out.push_str("</div></div>");
    out.push_str(&ad_slot(rng, "top"));
    out.push_str(
        "<div class=\"row\"><div class=\"col-8 main-col\"><div class=\"article-wrapper\">",
    );
    let _ = write!(
        out,
        "<div class=\"breadcrumbs\"><a href=\"/\">Home</a> &rsaquo; <a href=\"/{0}\">{0}</a></div>\
         <div class=\"title-block\"><h1>{1}</h1></div><div class=\"meta-line\"><span class=\"author-name\">{2}</span> \
         <span class=\"date\">{3}</span></div>",
        meta.section,
        escape(&meta.title),
        meta.author,
        meta.published.format("%d.%m.%Y %H:%M")
    );
    out.push_str("<div class=\"text-block\">");
    for (i, p) in paragraphs.iter().enumerate() {
        let _ = write!(out, "<div class=\"paragraph\"><p>{}</p></div>", escape(p));
        if i % 5 == 3 {
            out.push_str(&ad_slot(rng, "inread"));
        }
    }
    out.push_str("</div>");
    out.push_str(share_buttons());
    out.push_str("<div class=\"comments-teaser\"><h3>Comments (");
    let _ = write!(out, "{}", rng.range(0, 400));
    out.push_str(")</h3><p>Log in or register to join the discussion.</p></div></div>");
    out.push_str("<div class=\"related-grid\"><h2>Related stories</h2>");
    for _ in 0..rng.range(4, 10) {
        let topic_index = rng.below(TOPICS.len());
        let mut card_rng_text = teaser_headline(rng);
        card_rng_text.truncate(200);
        let _ = write!(
            out,
            "<div class=\"card\"><img src=\"/img/t/{}.jpg\"><a href=\"/story/{}\"><h4>{}</h4></a><p>{}</p></div>",
            rng.next_u64() % 100_000,
            rng.next_u64() % 100_000,
            escape(&card_rng_text),
            escape(&sentence(rng, &TOPICS[topic_index]))
        );
    }
    out.push_str("</div></div><div class=\"col-4 sidebar\">");
    out.push_str(&ad_slot(rng, "sidebar"));
    out.push_str(&most_read(rng, (5, 12)));
    out.push_str(&newsletter_box(site));
    out.push_str("</div></div>");
    out.push_str(&footer(rng, site, (20, 60)));
    out.push_str("</div></div>");
    out.push_str(cookie_banner());
    out.push_str("</body></html>");
    out
}

fn wire(rng: &mut Rng, meta: &ArticleMeta, site: &str, url: &str, paragraphs: &[String]) -> String {
    let mut out = head(meta, site, url, "");
    out.push_str("<body class=\"single-post\"><div id=\"page\"><div class=\"site-header\">");
    let _ = write!(out, "<p class=\"site-title\"><a href=\"/\">{site}</a></p>");
    out.push_str(&nav(rng, "main-navigation", (8, 20)));
    out.push_str(
        "</div><div id=\"content\" class=\"site-content\"><div id=\"primary\"><div class=\"post\">",
    );
    let _ = write!(
        out,
        "<h1 class=\"entry-title\">{}</h1><div class=\"entry-meta\">Posted on <span class=\"posted-on\">{}</span> \
         by <span class=\"vcard author\">{}</span></div><div class=\"entry-content\">",
        escape(&meta.title),
        meta.published.format("%B %e, %Y"),
        meta.author
    );
    let dateline = rng.pick(&["NORTHGATE", "EASTHOLM", "KINGSFORD", "MILLBROOK"]);
    for (i, p) in paragraphs.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, "<p>{dateline} (Wire) &mdash; {}</p>", escape(p));
        } else if i % 9 == 8 {
            let _ = write!(out, "<blockquote><p>{}</p></blockquote>", escape(p));
        } else {
            let _ = write!(out, "<p>{}</p>", escape(p));
        }
    }
    out.push_str("<p class=\"wire-credit\">(Reporting by ");
    out.push_str(&person(rng));
    out.push_str("; editing by ");
    out.push_str(&person(rng));
    out.push_str(")</p></div>");
    out.push_str(share_buttons());
    out.push_str("<div class=\"tags-links\">Tags: ");
    for _ in 0..rng.range(3, 8) {
        let _ = write!(
            out,
            "<a rel=\"tag\" href=\"/tag/{0}\">{0}</a> ",
            rng.pick(SECTIONS).to_ascii_lowercase()
        );
    }
    out.push_str("</div></div></div><div id=\"secondary\" class=\"widget-area\">");
    out.push_str("<section class=\"widget recent-posts\"><h2>Recent posts</h2><ul>");
    for _ in 0..rng.range(5, 15) {
        let _ = write!(
            out,
            "<li><a href=\"/p/{}\">{}</a></li>",
            rng.next_u64() % 100_000,
            escape(&teaser_headline(rng))
        );
    }
    out.push_str("</ul></section><section class=\"widget archives\"><h2>Archives</h2><ul>");
    for month in 1..=12 {
        let _ = write!(
            out,
            "<li><a href=\"/2025/{month:02}\">{month:02}/2025</a></li>"
        );
    }
    out.push_str("</ul></section>");
    out.push_str(&newsletter_box(site));
    out.push_str("</div></div>");
    out.push_str(&footer(rng, site, (8, 20)));
    out.push_str(cookie_banner());
    out.push_str("</div></body></html>");
    out
}

/// The RSS 2.0 feed of `feed`, listing articles `first..first + count`, newest first.
pub fn feed(feed: u32, first: u64, count: u64, origin: &str) -> String {
    let site = site_name(feed);
    let mut out = String::with_capacity(600 + count as usize * 600);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
         <channel><title>{} &#8211; feed {feed}</title><link>{origin}/</link><description>Latest stories</description>\
         <language>en</language>",
        escape(&site)
    );
    for seq in (first..first + count).rev() {
        let meta = article_meta(feed, seq);
        let _ = write!(
            out,
            "<item><title>{}</title><link>{origin}{}</link><guid isPermaLink=\"true\">{origin}{}</guid>\
             <pubDate>{}</pubDate><dc:creator>{}</dc:creator><category>{}</category><description>{}</description></item>",
            escape(&meta.title),
            meta.path,
            meta.path,
            meta.published.to_rfc2822(),
            meta.author,
            meta.section,
            escape(&meta.summary)
        );
    }
    out.push_str("</channel></rss>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_deterministic_and_sized_between_20_and_150_kb() {
        let mut sizes = Vec::new();
        for feed in 0..30 {
            for seq in 0..5 {
                let a = page(feed, seq, "http://127.0.0.1:1");
                assert_eq!(a, page(feed, seq, "http://127.0.0.1:1"));
                sizes.push(a.len());
            }
        }
        assert!(
            sizes.iter().all(|s| (20_000..=152_000).contains(s)),
            "{sizes:?}"
        );
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!((35_000..90_000).contains(&mean), "mean {mean}");
    }

    #[test]
    fn extractor_finds_the_generated_article_in_every_template() {
        for feed in 0..3 {
            let meta = article_meta(feed, 7);
            let html = page(feed, 7, "http://127.0.0.1:1");
            let article =
                newswire_extractor::extract(&html, None, &newswire_extractor::FeedHints::default());
            assert_eq!(
                article.title.as_deref(),
                Some(meta.title.as_str()),
                "template {feed}"
            );
            assert!(
                article.text.len() > 500,
                "template {feed}: {}",
                article.text.len()
            );
            assert!(!article.text.contains("Subscribe"), "template {feed}");
            assert!(!article.text.contains("cookies"), "template {feed}");
        }
    }

    /// Distinct generated articles must not look like copies to the pipeline's own
    /// near-duplicate rule (default knobs), or the benchmark measures a dedup workload no
    /// real set of feeds has.
    #[test]
    fn distinct_articles_are_not_near_duplicates() {
        use newswire_core::config::DedupConfig;
        use newswire_core::fingerprint::{Fingerprint, word_count};
        use newswire_core::near_dup::Rule;
        let rule = Rule::from(&DedupConfig::default());
        let prints: Vec<(u64, Fingerprint)> = (0..60u32)
            .flat_map(|feed| (0..5u64).map(move |seq| (feed, seq)))
            .map(|(feed, seq)| {
                let text = article_paragraphs(feed, seq).join("\n");
                (word_count(&text), Fingerprint::of(&text))
            })
            .collect();
        let mut candidates = 0;
        let mut confirmed = 0;
        for (i, (words, a)) in prints.iter().enumerate() {
            for (_, b) in &prints[i + 1..] {
                if rule.eligible(*words) && rule.is_candidate(a.simhash, b.simhash) {
                    candidates += 1;
                    confirmed += usize::from(rule.confirms(&a.minhash, &b.minhash).is_some());
                }
            }
        }
        let pairs = prints.len() * (prints.len() - 1) / 2;
        eprintln!("{pairs} pairs: {candidates} simhash candidates, {confirmed} confirmed");
        assert_eq!(confirmed, 0, "{confirmed} of {pairs} distinct pairs confirmed as copies");
    }
}
