//! Article metadata from the page's structured data, with a fixed precedence.
//!
//! Precedence, first source that gives a usable value wins:
//! - title: JSON-LD `headline`/`name` → `og:title` → `twitter:title` → Dublin Core
//!   `dc.title` → microdata `headline` → `<title>` (site suffix removed) → first `<h1>` → feed,
//!   with agreement between them deciding first (see `crate::titles`);
//! - authors: JSON-LD `author` → `<meta name=author>` → `article:author` (when not a URL)
//!   → `dc.creator` → `parsely-author`/`sailthru.author` → microdata/`rel=author` elements
//!   → feed;
//! - published/updated: see `crate::dates` (every source a page gives, with its name);
//! - language: `<html lang>` → `content-language` → JSON-LD `inLanguage` → `og:locale`
//!   → feed, then checked against the text with whatlang;
//! - summary: JSON-LD `description` → `og:description` → `twitter:description` →
//!   `<meta name=description>` → feed.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::dom::RawMeta;
use crate::text::normalize_space;

/// What the JSON-LD of the page says about its article.
#[derive(Debug, Default, Clone)]
pub struct JsonLdArticle {
    pub headline: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub image: Option<String>,
    pub keywords: Vec<String>,
    pub language: Option<String>,
    pub publisher: Option<String>,
    /// `isAccessibleForFree: false` was found.
    pub paywalled: bool,
}

const ARTICLE_TYPES: &[&str] = &[
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "socialmediaposting",
    "techarticle",
    "scholarlyarticle",
    "report",
    "webpage",
];

fn type_rank(v: &Value) -> Option<usize> {
    let types: Vec<&str> = match v.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    types
        .iter()
        .filter_map(|t| {
            let t = t
                .rsplit(['/', ':'])
                .next()
                .unwrap_or(t)
                .to_ascii_lowercase();
            ARTICLE_TYPES.iter().position(|a| *a == t)
        })
        .min()
}

/// Collects every object of `value` (through `@graph` and arrays) in document order.
fn collect_objects<'v>(value: &'v Value, out: &mut Vec<&'v Value>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_objects(v, out, depth + 1)),
        Value::Object(map) => {
            out.push(value);
            if let Some(graph) = map.get("@graph") {
                collect_objects(graph, out, depth + 1);
            }
            if let Some(main) = map.get("mainEntity") {
                collect_objects(main, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(string_of),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("@value"))
            .and_then(string_of),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn url_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(url_of),
        Value::Object(o) => o
            .get("url")
            .or_else(|| o.get("contentUrl"))
            .and_then(url_of),
        _ => None,
    }
}

fn is_organization(v: &Value) -> bool {
    let is_org = |t: &str| {
        matches!(
            t.rsplit(['/', ':']).next().unwrap_or(t),
            "Organization" | "NewsMediaOrganization" | "Corporation" | "GovernmentOrganization"
        )
    };
    match v.get("@type") {
        Some(Value::String(t)) => is_org(t),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(is_org),
        _ => false,
    }
}

/// Author names; organisations are listed only when no person is named (the page then
/// says the organisation is the author).
fn names_of(v: &Value, out: &mut Vec<String>) {
    let mut people = Vec::new();
    let mut organisations = Vec::new();
    collect_names(v, &mut people, &mut organisations, 0);
    if people.is_empty() {
        out.extend(organisations);
    } else {
        out.extend(people);
    }
}

fn collect_names(v: &Value, people: &mut Vec<String>, orgs: &mut Vec<String>, depth: usize) {
    if depth > 6 {
        return;
    }
    match v {
        Value::String(s) => people.push(s.clone()),
        Value::Array(a) => a
            .iter()
            .for_each(|x| collect_names(x, people, orgs, depth + 1)),
        Value::Object(o) => {
            let name = o.get("name").and_then(string_of).or_else(|| {
                // schema.org Person split into given and family names.
                let given = o.get("givenName").and_then(string_of)?;
                let family = o.get("familyName").and_then(string_of).unwrap_or_default();
                Some(format!("{given} {family}").trim().to_owned())
            });
            match name {
                Some(name) if is_organization(v) => orgs.push(name),
                Some(name) => people.push(name),
                None => {
                    // Nested: {"author": {"@list": [...]}} or {"person": {...}}.
                    for key in ["@list", "person", "author"] {
                        if let Some(inner) = o.get(key) {
                            collect_names(inner, people, orgs, depth + 1);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// The JSON inside a JSON-LD `<script>`: some pages wrap it in a CDATA section (bare or
/// commented out for old parsers) or end it with a semicolon.
pub fn json_ld_json(block: &str) -> &str {
    let mut s = block.trim();
    for prefix in ["/*<![CDATA[*/", "//<![CDATA[", "<![CDATA["] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim_start();
            break;
        }
    }
    for suffix in ["/*]]>*/", "//]]>", "]]>"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.trim_end();
            break;
        }
    }
    s.trim_end_matches(';').trim_end()
}

/// Parses the page's JSON-LD blocks and picks the most article-like object.
pub fn json_ld_article(blocks: &[String]) -> JsonLdArticle {
    let mut parsed = Vec::new();
    for block in blocks {
        if let Ok(v) = serde_json::from_str::<Value>(json_ld_json(block)) {
            parsed.push(v);
        }
    }
    let mut objects = Vec::new();
    for v in &parsed {
        collect_objects(v, &mut objects, 0);
    }
    let mut result = JsonLdArticle::default();
    if objects
        .iter()
        .any(|o| o.get("isAccessibleForFree").is_some_and(is_false))
    {
        result.paywalled = true;
    }
    let best = objects
        .iter()
        .filter_map(|o| type_rank(o).map(|r| (r, *o)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, o)| o);
    let Some(article) = best else { return result };
    result.headline = article
        .get("headline")
        .or_else(|| article.get("name"))
        .and_then(string_of);
    if let Some(author) = article.get("author").or_else(|| article.get("creator")) {
        names_of(author, &mut result.authors);
    }
    result.published = article
        .get("datePublished")
        .or_else(|| article.get("dateCreated"))
        .and_then(string_of);
    result.modified = article.get("dateModified").and_then(string_of);
    result.description = article.get("description").and_then(string_of);
    result.body = article.get("articleBody").and_then(string_of);
    result.image = article
        .get("image")
        .or_else(|| article.get("thumbnailUrl"))
        .and_then(url_of);
    result.language = article.get("inLanguage").and_then(string_of);
    result.publisher = article.get("publisher").and_then(string_of);
    match article.get("keywords") {
        Some(Value::String(s)) => {
            result.keywords = s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }
        Some(Value::Array(a)) => result.keywords = a.iter().filter_map(string_of).collect(),
        _ => {}
    }
    if article.get("isAccessibleForFree").is_some_and(is_false) {
        result.paywalled = true;
    }
    result
}

fn is_false(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

/// First `<meta>` value for any of `keys` (in the order of `keys`).
pub fn meta_value<'m>(meta: &'m RawMeta, keys: &[&str]) -> Option<&'m str> {
    keys.iter().find_map(|key| {
        meta.metas
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    })
}

/// Parses a machine-readable date from page metadata into UTC.
///
/// The formats (RFC 3339, RFC 2822 as written in the wild, ISO 8601 with a space, no
/// seconds or no offset) are `newswire_core::dates::parse_date`, the workspace's one date
/// parser. Page metadata adds two things feeds do not need, kept here: values too short to
/// be a full date ("2019", "2019-03") are refused so that no day is made up, and a date
/// followed by junk ("2019-03-12 | 10:20 Uhr") or written compactly ("20190312") gives its
/// day.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.len() < 8 || !s.as_bytes().first().is_some_and(u8::is_ascii_digit) && !s.contains(',') {
        return None;
    }
    if let Some(dt) = newswire_core::dates::parse_date(s) {
        return Some(dt);
    }
    let date_part = s.get(..10).unwrap_or(s);
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) =
            NaiveDate::parse_from_str(if format == "%Y%m%d" { s } else { date_part }, format)
        {
            return d.and_hms_opt(0, 0, 0).map(|dt| dt.and_utc());
        }
    }
    None
}

/// News agencies and house names that are not people.
const NOT_PEOPLE: &[&str] = &[
    "associated press",
    "the associated press",
    "ap",
    "reuters",
    "afp",
    "agence france-presse",
    "dpa",
    "staff",
    "staff writer",
    "staff reporter",
    "editorial staff",
    "the editors",
    "editor",
    "admin",
    "administrator",
    "news desk",
    "newsdesk",
    "web desk",
    "bloomberg",
];

/// Cleans raw author strings into a list of names: no "By", no dates, no URLs or e-mail
/// addresses, no agency boilerplate, no duplicates.
pub fn clean_authors(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for entry in raw {
        let entry = normalize_space(entry);
        for part in split_names(&entry) {
            let name = clean_name(&part);
            if name.is_empty() || out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                continue;
            }
            out.push(name);
        }
    }
    out.truncate(10);
    out
}

/// Role words stripped from the end of a name ("Jane Doe, Senior Reporter" is split at the
/// comma already; "Jane Doe Staff Writer" is not).
const ROLE_WORDS: &[&str] = &[
    "staff",
    "writer",
    "reporter",
    "correspondent",
    "editor",
    "contributor",
    "columnist",
    "senior",
    "chief",
    "political",
    "special",
    "foreign",
    "freelance",
    "contributing",
    "associate",
    "deputy",
    "managing",
    "executive",
    "redakteur",
    "redakteurin",
    "korrespondent",
    "korrespondentin",
    "journaliste",
    "correspondant",
    "redacción",
    "redaccion",
    "periodista",
    "redattore",
    "redactie",
    "ceo",
    "founder",
    "cofounder",
    "co-founder",
    "president",
];

/// Lower-case particles that belong to names ("Ursula von der Leyen", "Vincent van Gogh").
const NAME_PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "do", "dos", "du", "la", "le",
    "bin", "al", "el", "y", "e", "ten", "ter", "zu",
];

/// A phrase with a lower-case word that is not a name particle ("View author archive",
/// "Get author RSS feed") is a link label, not a name.
fn has_non_name_word(s: &str) -> bool {
    s.split_whitespace().skip(1).any(|w| {
        w.chars().next().is_some_and(char::is_lowercase)
            && !NAME_PARTICLES.contains(&w)
            && !w.contains('.')
    })
}

/// Short words that introduce a date cut off after a name ("Marie Dupont le 12 mars").
const DATE_INTRO_WORDS: &[&str] = &[
    "le", "el", "il", "am", "on", "at", "de", "du", "la", "à", "um", "op", "w", "dnia", "vom",
];

/// Words after which a byline stops naming people: dates, places, update labels.
const NAME_STOPS: &[&str] = &[
    " updated",
    " update",
    " published",
    " posted",
    " on ",
    " am ",
    " at ",
    " in ",
    " aus ",
    " from ",
    " für ",
    " for ",
    " pour ",
    " para ",
    " per ",
    " um ",
    " photo",
    " photos",
    " video",
    " last ",
    " ago",
];

fn split_names(entry: &str) -> Vec<String> {
    let lower = entry.to_lowercase();
    // Dutch "Door A en B": "en" joins names only after a Dutch "door"; elsewhere ("Por A en
    // Madrid") it starts a place.
    let dutch = lower.starts_with("door ");
    let mut parts = vec![entry.to_owned()];
    let mut seps = vec![
        ",", ";", " and ", " & ", " und ", " e ", " y ", " et ", "|", " with ", " mit ", " avec ",
        " con ", " i ", " og ", " och ", " oraz ", " a ", " / ", " • ", " · ",
    ];
    if dutch {
        seps.push(" en ");
    }
    for sep in seps {
        parts = parts
            .into_iter()
            .flat_map(|p| p.split(sep).map(str::to_owned).collect::<Vec<_>>())
            .collect();
    }
    parts
}

fn strip_by_prefix(s: &str) -> &str {
    let mut s = s.trim();
    for prefix in [
        "written by ",
        "words by ",
        "story by ",
        "posted by ",
        "published by ",
        "reported by ",
        "text by ",
        "by ",
        "by:",
        "von ",
        "por ",
        "par ",
        "di ",
        "door ",
        "przez ",
        "autor:",
        "autorin:",
        "autor ",
        "autorin ",
        "author:",
        "auteur:",
        "text:",
        "texte:",
        "texto:",
    ] {
        if s.len() > prefix.len()
            && let Some(rest) = s.get(prefix.len()..)
            && s.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        {
            s = rest.trim();
        }
    }
    s
}

fn clean_name(part: &str) -> String {
    let mut s = strip_by_prefix(part);
    // A role or outlet after a dash ("Jane Doe - Staff Writer", "Jane Doe — Reuters").
    for dash in [" - ", " – ", " — ", " | "] {
        if let Some(pos) = s.find(dash) {
            s = &s[..pos];
        }
    }
    // Dates, places and labels that follow the name.
    let lower = format!(" {}", s.to_lowercase());
    let cut = NAME_STOPS.iter().filter_map(|w| lower.find(w)).min();
    if let Some(cut) = cut {
        // `lower` has one leading space; ASCII stop words keep byte offsets aligned only
        // when lowercasing kept the length, so fall back to no cut otherwise.
        if lower.len() == s.len() + 1 && s.is_char_boundary(cut) {
            s = &s[..cut];
        }
    }
    // A name ends before its first word with a digit (a date or a time).
    if let Some(pos) = s
        .split_whitespace()
        .position(|w| w.chars().any(|c| c.is_ascii_digit()))
    {
        let kept: Vec<&str> = s.split_whitespace().take(pos).collect();
        if let (Some(first), Some(last)) = (kept.first(), kept.last()) {
            let start = first.as_ptr() as usize - s.as_ptr() as usize;
            let end = last.as_ptr() as usize + last.len() - s.as_ptr() as usize;
            s = &s[start..end];
        } else {
            s = "";
        }
    }
    let s = s.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '\'' && c != ')');
    // "Jane Doe (Reuters)": the outlet in brackets goes.
    let s = match s.find(" (") {
        Some(pos) => s[..pos].trim(),
        None => s,
    };
    // Trailing role words ("Jane Doe Staff Writer") and the short lower-case word that
    // introduced a cut-off date ("Marie Dupont le", "Ana Ruiz el").
    let mut words: Vec<&str> = s.split_whitespace().collect();
    while words.len() > 1
        && words.last().is_some_and(|w| {
            ROLE_WORDS.iter().any(|r| w.eq_ignore_ascii_case(r))
                || DATE_INTRO_WORDS.contains(w)
                || crate::dates::is_month_word(w)
        })
    {
        words.pop();
    }
    let s = words.join(" ");
    let s = s.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '\'' && c != ')');
    if s.is_empty()
        || s.contains("://")
        || s.starts_with("www.")
        || s.contains('@')
        || s.chars().any(|c| c.is_ascii_digit())
        || s.split_whitespace().count() > 5
        || s.len() > 80
        || NOT_PEOPLE.iter().any(|n| s.eq_ignore_ascii_case(n))
        || ROLE_WORDS.iter().any(|r| s.eq_ignore_ascii_case(r))
        || has_non_name_word(s)
        || DATE_INTRO_WORDS.contains(&s)
        // "By Jane Doe, March 5, 2021": what is left of the date is not a second author.
        || crate::dates::is_month_word(s)
    {
        return String::new();
    }
    s.to_owned()
}

/// Maps a language tag ("en-US", "pt_BR", "eng") to ISO 639-1 ("en", "pt").
pub fn normalize_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.len() {
        2 if primary.chars().all(|c| c.is_ascii_lowercase()) => Some(primary),
        3 => iso639_3_to_1(&primary).map(str::to_owned),
        _ => None,
    }
}

/// The ISO 639-3 codes whatlang reports, mapped to ISO 639-1.
pub fn iso639_3_to_1(code: &str) -> Option<&'static str> {
    Some(match code {
        "eng" => "en",
        "rus" => "ru",
        "cmn" | "zho" => "zh",
        "spa" => "es",
        "por" => "pt",
        "ita" => "it",
        "ben" => "bn",
        "fra" => "fr",
        "deu" => "de",
        "ukr" => "uk",
        "kat" => "ka",
        "ara" => "ar",
        "hin" => "hi",
        "jpn" => "ja",
        "heb" => "he",
        "yid" => "yi",
        "pol" => "pl",
        "amh" => "am",
        "jav" => "jv",
        "kor" => "ko",
        "nob" => "nb",
        "dan" => "da",
        "swe" => "sv",
        "fin" => "fi",
        "tur" => "tr",
        "nld" => "nl",
        "hun" => "hu",
        "ces" => "cs",
        "ell" => "el",
        "bul" => "bg",
        "bel" => "be",
        "mar" => "mr",
        "kan" => "kn",
        "ron" => "ro",
        "slv" => "sl",
        "hrv" => "hr",
        "srp" => "sr",
        "mkd" => "mk",
        "lit" => "lt",
        "lav" => "lv",
        "est" => "et",
        "tam" => "ta",
        "vie" => "vi",
        "urd" => "ur",
        "tha" => "th",
        "guj" => "gu",
        "uzb" => "uz",
        "pan" => "pa",
        "aze" => "az",
        "ind" => "id",
        "tel" => "te",
        "pes" => "fa",
        "mal" => "ml",
        "ori" => "or",
        "mya" => "my",
        "nep" => "ne",
        "sin" => "si",
        "khm" => "km",
        "tuk" => "tk",
        "aka" => "ak",
        "zul" => "zu",
        "sna" => "sn",
        "afr" => "af",
        "lat" => "la",
        "slk" => "sk",
        "cat" => "ca",
        "tgl" => "tl",
        "hye" => "hy",
        "cym" => "cy",
        "epo" => "eo",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_converted_to_utc() {
        let expect = |raw: &str, want: &str| {
            assert_eq!(
                parse_date(raw).map(|d| d.to_rfc3339()),
                Some(want.to_owned()),
                "{raw}"
            );
        };
        expect("2021-03-04T10:20:30+02:00", "2021-03-04T08:20:30+00:00");
        expect("2021-03-04T10:20:30+0200", "2021-03-04T08:20:30+00:00");
        expect("2021-03-04 10:20:30-05:00", "2021-03-04T15:20:30+00:00");
        expect("2021-03-04T10:20:30.123Z", "2021-03-04T10:20:30.123+00:00");
        expect("Thu, 04 Mar 2021 10:20:30 GMT", "2021-03-04T10:20:30+00:00");
        expect("2021-03-04", "2021-03-04T00:00:00+00:00");
        expect("2021-03-04T10:20", "2021-03-04T10:20:00+00:00");
        expect("2021-03-04 | 10:20 Uhr", "2021-03-04T00:00:00+00:00");
        expect("20210304", "2021-03-04T00:00:00+00:00");
        assert_eq!(parse_date("2 hours ago"), None);
        assert_eq!(parse_date("yesterday"), None);
        // Too short to name a day: no day is made up.
        assert_eq!(parse_date("2021-03"), None);
        assert_eq!(parse_date("2021"), None);
    }

    #[test]
    fn json_ld_wrapped_in_cdata_is_read() {
        for block in [
            "<![CDATA[ {\"@type\":\"NewsArticle\",\"headline\":\"H\"} ]]>",
            "//<![CDATA[\n{\"@type\":\"NewsArticle\",\"headline\":\"H\"};\n//]]>",
            "/*<![CDATA[*/{\"@type\":\"NewsArticle\",\"headline\":\"H\"}/*]]>*/",
        ] {
            let article = json_ld_article(&[block.to_owned()]);
            assert_eq!(article.headline.as_deref(), Some("H"), "{block}");
        }
    }

    #[test]
    fn authors_are_cleaned() {
        let raw = vec![
            "By Jane Roe and John Smith".to_owned(),
            "jane roe".to_owned(),
            "Reuters".to_owned(),
            "https://example.org/staff/x".to_owned(),
            "Updated 12:30".to_owned(),
            "View author archive".to_owned(),
            "By Laura Adkins December 28, 2016".to_owned(),
            "Gina Trapani, CEO".to_owned(),
            "Ursula von der Leyen".to_owned(),
        ];
        assert_eq!(
            clean_authors(&raw),
            vec![
                "Jane Roe",
                "John Smith",
                "Laura Adkins",
                "Gina Trapani",
                "Ursula von der Leyen"
            ]
        );
    }

    #[test]
    fn json_ld_graph_and_arrays_are_searched() {
        let block = r#"{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"Site"},{"@type":["ReportageNewsArticle"],"headline":"H","author":[{"@type":"Person","name":"A B"},{"name":"C D"}],"datePublished":"2020-01-02T03:04:05Z","isAccessibleForFree":"False"}]}"#;
        let article = json_ld_article(&[block.to_owned()]);
        assert_eq!(article.headline.as_deref(), Some("H"));
        assert_eq!(article.authors, vec!["A B", "C D"]);
        assert!(article.paywalled);
    }

    #[test]
    fn language_tags_are_normalised() {
        assert_eq!(normalize_language("en-US").as_deref(), Some("en"));
        assert_eq!(normalize_language("pt_BR").as_deref(), Some("pt"));
        assert_eq!(normalize_language("deu").as_deref(), Some("de"));
        assert_eq!(normalize_language("x"), None);
    }
}
