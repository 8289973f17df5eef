//! Places, countries and actors named in one article.
//!
//! Capitalised word runs are looked up in the gazetteer (longest name first); a name after a
//! place word ("the village of Farukh", "also known as Parukh") that the gazetteer lacks is kept
//! as an unresolved place, so that spelling variants can be joined within a story later.
//! Actors are countries named directly, through a demonym ("Azeri troops"), a capital ("Baku
//! said") or an institution ("the Kremlin"), and a few organisations.

use serde::{Deserialize, Serialize};

use crate::gazetteer::{Gazetteer, PlaceKind, country_of_word, group_of};
use crate::text::{Token, fold, is_stopword, variant_key};

/// How a place was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolvedBy {
    /// Its GeoNames main name.
    GeonamesName,
    /// One of its GeoNames alternate names.
    GeonamesAlias,
    /// Not in the gazetteer: named after a place word ("the village of …").
    Context,
}

/// A place as it appears in a record's `places[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    /// Other spellings seen for it (in this article or in its story).
    pub aliases: Vec<String>,
    pub geonames_id: Option<u32>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// GeoNames first-level region code.
    pub region: Option<String>,
    pub resolved_by: ResolvedBy,
}

/// A place mention before story-level merging: `key` identifies it (`g` and the GeoNames id; `r`,
/// the country and the region code for a region the data gives without an id; `u` and the
/// transliteration key of an unresolved name).
#[derive(Debug, Clone)]
pub struct PlaceMention {
    pub surface: String,
    pub place: Place,
    pub key: String,
    pub count: u32,
}

/// What one article names.
#[derive(Debug, Clone, Default)]
pub struct Mentions {
    pub places: Vec<PlaceMention>,
    /// ISO codes of the countries the places are in (and of the countries named), sorted.
    pub countries: Vec<String>,
    /// Country names and organisations acting in the article, sorted.
    pub actors: Vec<String>,
}

/// English month names, lower case.
pub(crate) const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const PLACE_WORDS: &[&str] = &[
    "village",
    "town",
    "city",
    "district",
    "province",
    "region",
    "settlement",
    "municipality",
    "suburb",
];
/// Words right after a name that make it a first-level region ("the Kherson region", "Donetsk
/// Oblast", "the Donetsk and Luhansk regions" for Luhansk). Not "state": "Tehran state TV" and
/// "Moscow State University" name the city.
const REGION_WORDS: &[&str] = &[
    "region",
    "regions",
    "oblast",
    "oblasts",
    "province",
    "provinces",
    "governorate",
    "governorates",
    "krai",
];
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "dr",
    "sir",
    "president",
    "minister",
    "general",
    "judge",
];

fn is_name_token(t: &Token<'_>) -> bool {
    t.capitalized && !t.numeric
}

struct Candidate {
    surface: String,
    hits: Vec<(u32, bool)>,
    weak: bool,
    /// A region word follows the name.
    region_word: bool,
}

/// Finds places, countries and actors in the tokens of one article.
// Long on purpose: one left-to-right pass over the tokens in which multi-word names,
// demonyms and capitals are tried in a fixed order at each position; the order is the rule.
pub fn find_mentions(toks: &[Token<'_>], text: &str) -> Mentions {
    let g = Gazetteer::get();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut unresolved: Vec<String> = Vec::new();
    let mut actor_countries: Vec<String> = Vec::new();
    let mut groups: Vec<&'static str> = Vec::new();

    let mut i = 0;
    while i < toks.len() {
        if !is_name_token(&toks[i]) {
            // Names are capitalised runs; institutions are capitalised too ("the Kremlin").
            i += 1;
            continue;
        }
        let mut end = i;
        while end + 1 < toks.len()
            && is_name_token(&toks[end + 1])
            && !toks[end + 1].sentence_start
            && end + 1 - i < 4
            && adjacent(text, &toks[end], &toks[end + 1])
        {
            end += 1;
        }
        let run = &toks[i..=end];
        let after_title = i > 0 && TITLES.contains(&fold(toks[i - 1].text).as_str());
        let after_place_word = i >= 2
            && fold(toks[i - 1].text) == "of"
            && PLACE_WORDS.contains(&fold(toks[i - 2].text).as_str())
            || i >= 2 && fold(toks[i - 1].text) == "as" && fold(toks[i - 2].text) == "known"
            || i >= 1 && fold(toks[i - 1].text) == "near";
        let mut matched_any = false;
        let mut s = 0;
        while s < run.len() {
            let mut step = 1;
            for len in (1..=run.len() - s).rev() {
                let words = &run[s..s + len];
                let surface = text
                    [words[0].start..words[len - 1].start + words[len - 1].text.len()]
                    .to_string();
                let folded = fold(&surface);
                if let Some(c) = country_of_word(&folded) {
                    actor_countries.push(c.to_string());
                    matched_any = true;
                    step = len;
                    break;
                }
                if let Some(grp) = group_of(&surface, &folded) {
                    groups.push(grp);
                    matched_any = true;
                    step = len;
                    break;
                }
                if after_title || MONTHS.contains(&folded.as_str()) || is_stopword(&folded) {
                    continue;
                }
                let hits: Vec<(u32, bool)> =
                    g.lookup(&folded).map(|h| (h.place, h.by_alias)).collect();
                if !hits.is_empty() {
                    // A single word at a sentence start or inside a longer unknown name ("Mark
                    // Teixeira") is a weak candidate: only countries, regions and big cities count.
                    let weak = len == 1 && (words[0].sentence_start || run.len() > 1);
                    let last = &words[len - 1];
                    let region_word = toks.get(i + s + len).is_some_and(|next| {
                        adjacent(text, last, next)
                            && REGION_WORDS.contains(&fold(next.text).as_str())
                    });
                    candidates.push(Candidate {
                        surface,
                        hits,
                        weak,
                        region_word,
                    });
                    matched_any = true;
                    step = len;
                    break;
                }
            }
            s += step;
        }
        if !matched_any && after_place_word && run.len() <= 2 {
            unresolved.push(
                text[run[0].start..run[run.len() - 1].start + run[run.len() - 1].text.len()]
                    .to_string(),
            );
        }
        i = end + 1;
    }

    // Countries named directly give the context that decides between places of the same name.
    let mut context: Vec<String> = actor_countries.clone();
    for c in &candidates {
        for &(p, _) in &c.hits {
            let place = &g.places[p as usize];
            if place.kind == PlaceKind::Country {
                context.push(place.country.clone());
            }
        }
    }

    let mut out = Mentions::default();
    for c in candidates {
        let best = c
            .hits
            .iter()
            .copied()
            .filter_map(|(p, alias)| {
                let place = &g.places[p as usize];
                let rank = match place.kind {
                    PlaceKind::Country => 3u8,
                    PlaceKind::Region => 2,
                    PlaceKind::RegionNamedLikeCity if c.region_word => 2,
                    PlaceKind::RegionNamedLikeCity => return None,
                    PlaceKind::City => 1,
                };
                Some((p, alias, rank))
            })
            .max_by_key(|&(p, alias, rank)| {
                let place = &g.places[p as usize];
                (
                    rank,
                    !alias,
                    context.contains(&place.country),
                    place.population,
                )
            });
        let Some((p, alias, _)) = best else { continue };
        let place = &g.places[p as usize];
        if c.weak
            && place.kind == PlaceKind::City
            && place.population < 100_000
            && !context.contains(&place.country)
        {
            continue;
        }
        // A capital names its country's government ("Kyiv said"), a region of that name does not.
        let is_capital = place.kind == PlaceKind::City
            && g.capital_of(&fold(&place.name)) == Some(place.country.as_str());
        if place.kind == PlaceKind::Country || is_capital {
            actor_countries.push(place.country.clone());
        }
        out.countries.push(place.country.clone());
        add_mention(
            &mut out.places,
            PlaceMention {
                surface: c.surface.clone(),
                key: place_key(place),
                place: Place {
                    name: place.name.clone(),
                    aliases: Vec::new(),
                    geonames_id: place.geonames_id,
                    country: Some(place.country.clone()),
                    region: (!place.region.is_empty()).then(|| place.region.clone()),
                    resolved_by: if alias {
                        ResolvedBy::GeonamesAlias
                    } else {
                        ResolvedBy::GeonamesName
                    },
                },
                count: 1,
            },
        );
    }
    for surface in unresolved {
        add_mention(
            &mut out.places,
            PlaceMention {
                key: format!("u{}", variant_key(&surface)),
                place: Place {
                    name: surface.clone(),
                    aliases: Vec::new(),
                    geonames_id: None,
                    country: None,
                    region: None,
                    resolved_by: ResolvedBy::Context,
                },
                surface,
                count: 1,
            },
        );
    }
    merge_one_edit_variants(&mut out.places);

    out.countries.extend(actor_countries.iter().cloned());
    out.countries.sort();
    out.countries.dedup();
    let mut actors: Vec<String> = actor_countries
        .iter()
        .filter_map(|c| g.country(c).map(|p| p.name.clone()))
        .chain(groups.iter().map(|s| s.to_string()))
        .collect();
    actors.sort();
    actors.dedup();
    out.actors = actors;
    out
}

fn adjacent(text: &str, a: &Token<'_>, b: &Token<'_>) -> bool {
    text[a.start + a.text.len()..b.start]
        .chars()
        .all(|c| c == ' ')
}

fn add_mention(list: &mut Vec<PlaceMention>, m: PlaceMention) {
    if let Some(existing) = list.iter_mut().find(|e| e.key == m.key) {
        existing.count += 1;
        if existing.place.name != m.surface && !existing.place.aliases.contains(&m.surface) {
            existing.place.aliases.push(m.surface);
        }
    } else {
        let mut m = m;
        if m.place.name != m.surface {
            m.place.aliases.push(m.surface.clone());
        }
        list.push(m);
    }
}

/// A gazetteer place's key: its GeoNames id, or, for a first-level region the data gives without
/// one (`tools/convert_geonames.py`), its country and region code.
fn place_key(place: &crate::gazetteer::GeoPlace) -> String {
    match place.geonames_id {
        Some(id) => format!("g{id}"),
        None => format!("r{}.{}", place.country, place.region),
    }
}

/// Unresolved names one edit apart ("Farukh" and "Parukh") are one place: the more frequent
/// spelling names it, the others become aliases.
pub fn merge_one_edit_variants(list: &mut Vec<PlaceMention>) {
    let mut i = 0;
    while i < list.len() {
        let mut j = i + 1;
        while j < list.len() {
            let unresolved = |m: &PlaceMention| m.place.resolved_by == ResolvedBy::Context;
            let same = unresolved(&list[i])
                && unresolved(&list[j])
                && crate::text::within_one_edit(&list[i].key, &list[j].key);
            if same {
                let other = list.remove(j);
                let keep = &mut list[i];
                keep.count += other.count;
                for name in std::iter::once(other.place.name).chain(other.place.aliases) {
                    if name != keep.place.name && !keep.place.aliases.contains(&name) {
                        keep.place.aliases.push(name);
                    }
                }
            } else {
                j += 1;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokens;

    fn mentions(text: &str) -> Mentions {
        find_mentions(&tokens(text), text)
    }

    /// The place called `name` among `m`'s places (the test fails without it).
    fn place<'m>(m: &'m Mentions, name: &str) -> &'m PlaceMention {
        m.places
            .iter()
            .find(|p| p.place.name == name)
            .unwrap_or_else(|| panic!("{name} not found in {:?}", m.places))
    }

    #[test]
    fn demonyms_capitals_and_institutions_are_actors() {
        let m = mentions(
            "Azeri troops advanced while officials in Yerevan protested and the Kremlin said nothing.",
        );
        assert!(
            m.actors.contains(&"Azerbaijan".to_string()),
            "{:?}",
            m.actors
        );
        assert!(m.actors.contains(&"Armenia".to_string()), "{:?}", m.actors);
        assert!(m.actors.contains(&"Russia".to_string()), "{:?}", m.actors);
        assert!(
            m.places
                .iter()
                .any(|p| p.place.name == "Yerevan" && p.place.geonames_id.is_some())
        );
    }

    #[test]
    fn first_level_regions_outside_the_us_resolve_with_their_country() {
        let m = mentions("Drones struck an airfield in Crimea, and officials in Bavaria said so.");
        let crimea = place(&m, "Crimea");
        assert_eq!(crimea.place.country.as_deref(), Some("UA"));
        assert_eq!(crimea.place.resolved_by, ResolvedBy::GeonamesName);
        assert!(crimea.place.region.is_some());
        assert_eq!(place(&m, "Bavaria").place.country.as_deref(), Some("DE"));
        assert_ne!(
            crimea.key,
            place(&m, "Bavaria").key,
            "regions without ids keep apart"
        );
        assert!(m.countries.contains(&"UA".to_string()));
    }

    #[test]
    fn a_city_named_like_its_region_is_the_city() {
        let m = mentions("Shelling hit Kharkiv overnight, the governor said.");
        let kharkiv = place(&m, "Kharkiv");
        assert!(kharkiv.place.geonames_id.is_some(), "{kharkiv:?}");
        assert_eq!(kharkiv.place.country.as_deref(), Some("UA"));
    }

    #[test]
    fn a_region_word_after_a_city_name_makes_it_the_region() {
        let m = mentions("Troops shelled villages in the Kherson region and in Donetsk Oblast.");
        for name in ["Kherson", "Donetsk"] {
            let region = place(&m, name);
            assert!(
                region.key.starts_with("rUA."),
                "{name} is the region: {region:?}"
            );
            assert!(region.place.geonames_id.is_none());
        }
    }

    #[test]
    fn a_big_city_is_not_taken_for_a_foreign_region_of_its_name() {
        let m = mentions("Fans gathered in Manchester, England, after the match.");
        let manchester = place(&m, "Manchester");
        assert_eq!(
            manchester.place.country.as_deref(),
            Some("GB"),
            "{manchester:?}"
        );
    }

    #[test]
    fn a_region_word_must_follow_the_name_directly() {
        let m = mentions("Shelling hit Kherson. Region officials said two people died.");
        let kherson = place(&m, "Kherson");
        assert!(kherson.place.geonames_id.is_some(), "the city: {kherson:?}");
    }

    #[test]
    fn unknown_village_is_kept_and_spellings_fold() {
        let m =
            mentions("Soldiers entered the village of Farukh, also known as Parukh, on Friday.");
        let village: Vec<_> = m
            .places
            .iter()
            .filter(|p| p.place.geonames_id.is_none())
            .collect();
        assert_eq!(village.len(), 1, "{:?}", m.places);
        assert_eq!(village[0].place.resolved_by, ResolvedBy::Context);
        assert!(
            village[0].place.aliases.contains(&"Parukh".to_string())
                || village[0].place.name == "Parukh"
        );
    }

    #[test]
    fn person_names_do_not_become_places() {
        let m = mentions("The club offered Mark Teixeira a contract, said Mr. Lincoln.");
        assert!(
            m.places.is_empty(),
            "{:?}",
            m.places.iter().map(|p| &p.place.name).collect::<Vec<_>>()
        );
    }
}
