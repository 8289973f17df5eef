//! The page's title, chosen among the versions a page gives (structured data, `<title>`,
//! `<h1>`) by agreement between them rather than by a fixed order alone.
//!
//! The metadata order (JSON-LD `headline` → `og:title` → `twitter:title` → Dublin Core →
//! microdata → `<title>` → `<h1>`) stays the default. Agreement overrides it in three ways:
//! - a metadata headline that shares less than half of its words with the `<title>` and
//!   the `<h1>`s, when those two agree with each other, is a description or a site tag,
//!   not this page's title, and is skipped;
//! - when the title would come from `<title>` and an `<h1>` is that `<title>` with a part
//!   cut at a separator ("Headline - Site", "Site: Headline"), the `<h1>` is the headline;
//! - without metadata, the page's only `<h1>` is preferred to a differently worded
//!   `<title>` when the two share a word and the `<h1>` is not the site's name;
//! - when an `<h1>` says the chosen title with other punctuation (curly quotes, a closing
//!   full stop, entities), the `<h1>`'s visible version is kept.
//!
//! Site affixes are removed from `<title>`-like values when they name the site
//! (`og:site_name`, the host's name, an `<h1>` masthead), with or without spaces around
//! the separator, or when the usual shape says so (a long head, a short tail).

use crate::text::{decode_entities, normalize_space};

/// Separators sites put between the headline and their name in `<title>`.
const TITLE_SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " :: ", " · ", " « ", " » ", " / ", " : ", " － ", " ｜ ", "｜",
];

/// Separators written without spaces; a part after one is cut only when it names the site.
const TIGHT_SEPARATORS: &[char] = &['|', '｜', ':', '：', '_', '-', '–', '—', '·', '/'];

/// How many `<h1>` texts are compared (a masthead `<h1>` often comes before the headline).
pub const MAX_H1S: usize = 4;

/// The title versions of one page, in metadata precedence.
#[derive(Debug, Default)]
pub struct TitleSources<'a> {
    /// JSON-LD headline, `og:title`, `twitter:title`, Dublin Core, microdata, in order.
    pub metadata: Vec<String>,
    pub title_element: Option<&'a str>,
    pub h1s: &'a [String],
    pub site_name: Option<&'a str>,
    /// The host's own name ("example" for `www.example.co.uk`).
    pub host_label: Option<String>,
    pub feed: Option<&'a str>,
}

/// Words in a title part; scripts written without spaces count one word per three
/// characters, so "a long head, a short tail" reads the same in Japanese or Chinese.
fn title_words(s: &str) -> usize {
    let spaced = s.split_whitespace().count();
    let cjk = s.chars().filter(|c| is_cjk(*c)).count();
    spaced.max(cjk / 3)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF)
}

/// Letters and digits only, lower case: two spellings of one title compare equal.
fn key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The host's own name: the label left of the public suffix, skipping `www` and the
/// second-level labels of country domains (`co.uk`, `com.au`, `go.jp`).
pub fn host_label(host: &str) -> Option<String> {
    const GENERIC: &[&str] = &[
        "www", "com", "co", "org", "net", "ac", "go", "or", "ne", "gov", "edu", "m",
    ];
    let labels: Vec<&str> = host.split('.').collect();
    labels
        .iter()
        .take(labels.len().saturating_sub(1))
        .rev()
        .find(|l| !GENERIC.contains(l))
        .filter(|l| l.chars().count() >= 4)
        .map(|l| l.to_lowercase())
}

/// Whether `part` names the site: it contains the site name or the host's name.
fn names_site(part: &str, sites: &[String]) -> bool {
    let part = key(part);
    !part.is_empty()
        && sites.iter().any(|s| {
            let s = key(s);
            s.chars().count() >= 3 && part.contains(&s)
        })
}

/// Removes site parts ("Headline | Site", "Site - Headline", "Headline：Site") from a
/// page title. `sites` are names the page gives itself.
pub fn strip_site_affix(title: &str, sites: &[String]) -> String {
    let title = normalize_space(title);
    for sep in TITLE_SEPARATORS {
        if let Some(pos) = title.rfind(sep) {
            let (head, tail) = (title[..pos].trim(), title[pos + sep.len()..].trim());
            if head.is_empty() || tail.is_empty() {
                continue;
            }
            let tail_is_site = sites.iter().any(|s| tail.eq_ignore_ascii_case(s.trim()))
                || (title_words(tail) <= 4 && title_words(head) >= 3)
                || (names_site(tail, sites) && !names_site(head, sites));
            if tail_is_site {
                return strip_site_affix(head, sites);
            }
            let head_is_site = sites.iter().any(|s| head.eq_ignore_ascii_case(s.trim()));
            if head_is_site {
                return tail.to_owned();
            }
        }
    }
    // A separator written without spaces ("見出し：サイト名", "Headline_Section_Site"):
    // cut only a tail that names the site, then shorter parts after the same separator.
    if let Some((pos, sep)) = title
        .char_indices()
        .rev()
        .find(|(_, c)| TIGHT_SEPARATORS.contains(c))
    {
        let (head, tail) = (title[..pos].trim(), title[pos + sep.len_utf8()..].trim());
        if !head.is_empty() && names_site(tail, sites) && !names_site(head, sites) {
            let mut head = head;
            while let Some(p) = head.rfind(sep) {
                let section = head[p + sep.len_utf8()..].trim();
                if head[..p].trim().is_empty() || title_words(section) > 2 {
                    break;
                }
                head = head[..p].trim();
            }
            return head.to_owned();
        }
    }
    title
}

/// The part of `title` left when `h1` is cut from its start or end at a separator, or
/// `None` when `h1` is not such a part.
fn rest_after_affix<'t>(title: &'t str, h1: &str) -> Option<&'t str> {
    if h1.is_empty() || h1.len() >= title.len() {
        return None;
    }
    let rest = if let Some(rest) = title.strip_prefix(h1) {
        rest.trim_start()
    } else if let Some(rest) = title.strip_suffix(h1) {
        rest.trim_end()
    } else {
        return None;
    };
    let seps: &[char] = &[
        '|', '｜', ':', '：', '_', '-', '–', '—', '·', '/', '»', '«', '~', '～', '－',
    ];
    let at_separator = rest.starts_with(seps) || rest.ends_with(seps);
    let trimmed = rest.trim_matches(|c: char| seps.contains(&c) || c.is_whitespace());
    (at_separator && !trimmed.is_empty()).then_some(trimmed)
}

/// Whether two titles share at least one word of four letters or more (shorter ones are
/// mostly "and", "the", "for") or, in scripts without spaces, a character.
fn shares_word(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() || is_cjk(c))
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_lowercase)
            .chain(s.chars().filter(|c| is_cjk(*c)).map(String::from))
            .collect()
    };
    let b = words(b);
    words(a).iter().any(|w| b.contains(w))
}

/// Lower-case words of a title; in scripts without spaces, each character.
fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() || is_cjk(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .chain(s.chars().filter(|c| is_cjk(*c)).map(String::from))
        .collect()
}

/// How many of `m`'s words occur in one of the `visible` titles.
fn words_seen(m: &str, visible: &[&str]) -> usize {
    let seen: Vec<String> = visible.iter().flat_map(|v| tokens(v)).collect();
    tokens(m).iter().filter(|w| seen.contains(w)).count()
}

/// The page's only `<h1>`, when it reads as this page's headline: not the site's name, and
/// about the same thing as the `<title>` (a shared word). Sites often word `<title>` for
/// search engines and the visible headline for readers; the reader's version is preferred.
fn sole_headline_h1<'h>(
    h1s: &'h [String],
    title: Option<&str>,
    sites: &[String],
) -> Option<&'h str> {
    let first = h1s.first()?;
    if h1s.iter().any(|h| h != first) || names_site(first, sites) || sites.contains(first) {
        return None;
    }
    title
        .is_none_or(|t| shares_word(first, t))
        .then_some(first.as_str())
}

/// Chooses the page's title (see the module documentation).
pub fn choose_title(sources: &TitleSources<'_>) -> Option<String> {
    let h1s: Vec<String> = sources
        .h1s
        .iter()
        .map(|h| normalize_space(h))
        .filter(|h| !h.is_empty())
        .collect();
    let title_element = sources
        .title_element
        .map(normalize_space)
        .filter(|t| !t.is_empty());

    // The `<h1>` that is the `<title>` minus a part, and `<h1>`s that are the site's
    // masthead (the shorter part of the `<title>`).
    let mut sites: Vec<String> = sources.site_name.map(str::to_owned).into_iter().collect();
    sites.extend(sources.host_label.clone());
    let mut headline_h1 = None;
    if let Some(title) = title_element.as_deref() {
        for h1 in &h1s {
            let Some(rest) = rest_after_affix(title, h1) else {
                continue;
            };
            if title_words(h1) >= title_words(rest) || names_site(rest, &sites) {
                headline_h1.get_or_insert_with(|| h1.clone());
            } else {
                sites.push(h1.clone());
            }
        }
    }

    // The visible versions are trusted to reject a metadata headline only when they agree
    // with each other (a bare `<title>` alone may be an id or the site's name).
    let visible_agree =
        headline_h1.is_some() || h1s.iter().any(|h| title_element.as_ref() == Some(h));
    let visible: Vec<&str> = if visible_agree {
        title_element
            .iter()
            .map(String::as_str)
            .chain(h1s.iter().map(String::as_str))
            .collect()
    } else {
        Vec::new()
    };
    let metadata = sources
        .metadata
        .iter()
        .map(|m| strip_site_affix(&decode_entities(m), &sites))
        .filter(|m| !m.is_empty())
        .find(|m| {
            visible.is_empty()
                || visible.iter().any(|v| key(v).contains(&key(m)))
                || words_seen(m, &visible) * 2 >= tokens(m).len()
        });

    let chosen = match metadata {
        Some(m) => m,
        None => {
            if let Some(h1) = headline_h1 {
                return Some(h1);
            }
            if let Some(h1) = sole_headline_h1(&h1s, title_element.as_deref(), &sites) {
                return Some(h1.to_owned());
            }
            title_element
                .as_deref()
                .map(|t| strip_site_affix(t, &sites))
                .filter(|t| !t.is_empty())
                .or_else(|| h1s.first().cloned())
                .or_else(|| sources.feed.map(normalize_space).filter(|f| !f.is_empty()))?
        }
    };
    // The visible headline's own spelling of the same words.
    let chosen_key = key(&chosen);
    let same_words = h1s
        .iter()
        .find(|h| !chosen_key.is_empty() && key(h) == chosen_key && **h != chosen);
    Some(same_words.cloned().unwrap_or(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources<'a>(title: &'a str, h1s: &'a [String]) -> TitleSources<'a> {
        TitleSources {
            title_element: Some(title),
            h1s,
            ..TitleSources::default()
        }
    }

    #[test]
    fn site_suffixes_are_removed() {
        assert_eq!(
            strip_site_affix("Dam burst floods the valley | The Daily Example", &[]),
            "Dam burst floods the valley"
        );
        assert_eq!(
            strip_site_affix(
                "Example News - Dam burst floods the valley",
                &["Example News".to_owned()]
            ),
            "Dam burst floods the valley"
        );
        assert_eq!(strip_site_affix("Short - title", &[]), "Short - title");
    }

    #[test]
    fn a_tail_naming_the_host_is_cut_after_a_separator_without_spaces() {
        let sites = ["examplenews".to_owned()];
        assert_eq!(
            strip_site_affix("川が氾濫、住民が避難：examplenews開発日誌", &sites),
            "川が氾濫、住民が避難"
        );
        assert_eq!(
            strip_site_affix("Dam burst floods the valley_Local_ExampleNews", &sites),
            "Dam burst floods the valley"
        );
        // Nothing names the site: a colon inside a headline stays.
        assert_eq!(
            strip_site_affix("Genetik:Das Geheimnis der Blumen", &sites),
            "Genetik:Das Geheimnis der Blumen"
        );
    }

    #[test]
    fn host_label_is_the_name_left_of_the_suffix() {
        assert_eq!(host_label("www.example.co.uk").as_deref(), Some("example"));
        assert_eq!(host_label("news.example.com").as_deref(), Some("example"));
        assert_eq!(host_label("localhost"), None);
    }

    #[test]
    fn h1_that_is_the_title_minus_a_part_is_the_headline() {
        let h1s = ["Dam bursts".to_owned()];
        assert_eq!(
            choose_title(&sources("Dam bursts - Wiki", &h1s)).as_deref(),
            Some("Dam bursts")
        );
        let h1s = [
            "Daily Example".to_owned(),
            "川が氾濫、住民が避難した".to_owned(),
        ];
        assert_eq!(
            choose_title(&sources("Daily Example: 川が氾濫、住民が避難した", &h1s)).as_deref(),
            Some("川が氾濫、住民が避難した")
        );
    }

    #[test]
    fn sole_h1_is_preferred_to_a_differently_worded_title() {
        let h1s = ["Jury finds the driver guilty in the river crash".to_owned()];
        assert_eq!(
            choose_title(&sources(
                "Driver convicted of river crash : Daily Example",
                &h1s
            ))
            .as_deref(),
            Some("Jury finds the driver guilty in the river crash")
        );
        // An `<h1>` about something else (a section name) is not the headline.
        let h1s = ["Information and Resources".to_owned()];
        assert_eq!(
            choose_title(&sources("Driver convicted: what and why", &h1s)).as_deref(),
            Some("Driver convicted: what and why")
        );
        // Nor is an `<h1>` that is the site's name.
        let h1s = ["The Example Crash Review".to_owned()];
        let s = TitleSources {
            host_label: Some("examplecrashreview".to_owned()),
            ..sources("Driver convicted of river crash", &h1s)
        };
        assert_eq!(
            choose_title(&s).as_deref(),
            Some("Driver convicted of river crash")
        );
    }

    #[test]
    fn masthead_h1_is_not_the_headline_and_names_the_site() {
        let h1s = ["好奇心日报".to_owned()];
        assert_eq!(
            choose_title(&sources(
                "约会软件想用相似好恶来帮你找对象_智能_好奇心日报",
                &h1s
            ))
            .as_deref(),
            Some("约会软件想用相似好恶来帮你找对象")
        );
    }

    #[test]
    fn metadata_headline_sharing_no_word_with_the_page_is_skipped() {
        let h1s = ["New Zealand".to_owned()];
        let s = TitleSources {
            metadata: vec!["constitutional monarchy in Oceania".to_owned()],
            ..sources("New Zealand - Wiki", &h1s)
        };
        assert_eq!(choose_title(&s).as_deref(), Some("New Zealand"));
        let h1s = ["Hermitian matrix".to_owned()];
        let s = TitleSources {
            metadata: vec!["matrix equal to its conjugate-transpose".to_owned()],
            ..sources("Hermitian matrix - Wiki", &h1s)
        };
        assert_eq!(choose_title(&s).as_deref(), Some("Hermitian matrix"));
        // A `<title>` that is only an id, with no `<h1>` to agree with, rejects nothing.
        let s = TitleSources {
            metadata: vec!["Storm warning for the coast".to_owned()],
            ..sources("934106870834454529", &[])
        };
        assert_eq!(
            choose_title(&s).as_deref(),
            Some("Storm warning for the coast")
        );
    }

    #[test]
    fn metadata_headline_is_kept_over_a_different_h1() {
        let h1s = ["The seven secrets hotels keep".to_owned()];
        let s = TitleSources {
            metadata: vec!["Seven secrets hotels keep".to_owned()],
            ..sources("The seven secrets hotels keep | Daily Example", &h1s)
        };
        assert_eq!(
            choose_title(&s).as_deref(),
            Some("Seven secrets hotels keep")
        );
    }

    #[test]
    fn visible_spelling_of_the_same_title_wins() {
        let h1s = ["Why the dam won’t hold".to_owned()];
        let s = TitleSources {
            metadata: vec!["Why the dam won&#8217;t hold".to_owned()],
            ..sources("Why the dam won't hold | Daily Example", &h1s)
        };
        assert_eq!(choose_title(&s).as_deref(), Some("Why the dam won’t hold"));
        let s = TitleSources {
            metadata: vec!["Floods &amp; storms".to_owned()],
            ..TitleSources::default()
        };
        assert_eq!(choose_title(&s).as_deref(), Some("Floods & storms"));
    }
}
