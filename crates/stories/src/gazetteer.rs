//! The embedded GeoNames gazetteer (countries, first-level regions, cities of 15,000+ people with
//! their Latin-script alternate names) and the word lists that turn demonyms, capitals and
//! institutions into actors.
//!
//! The data is `data/gazetteer.tsv.zst`, made by `tools/convert_geonames.py` (GeoNames, CC BY 4.0).
//! It is decompressed once, on first use; names are looked up by the hash of their folded form.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::text::{fold, term_hash};

static DATA: &[u8] = include_bytes!("../data/gazetteer.tsv.zst");

/// What kind of place a gazetteer entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    Country,
    Region,
    /// A first-level region named like a city of its country (Kherson, Donetsk): the name alone
    /// means the city, so the region is found only with a region word after it ("the Kherson
    /// region", "Donetsk Oblast").
    RegionNamedLikeCity,
    City,
}

/// One gazetteer entry.
#[derive(Debug, Clone)]
pub struct GeoPlace {
    pub kind: PlaceKind,
    /// `None` for the first-level regions the data gives without an id (see
    /// `tools/convert_geonames.py`).
    pub geonames_id: Option<u32>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// First-level region code (GeoNames admin1), empty for countries.
    pub region: String,
    pub population: u64,
    pub name: String,
}

/// A name that matched: the place and whether it matched its main name or an alternate one.
#[derive(Debug, Clone, Copy)]
pub struct NameHit {
    pub place: u32,
    pub by_alias: bool,
}

pub struct Gazetteer {
    pub places: Vec<GeoPlace>,
    /// (hash of folded name, place index << 1 | is_alias), sorted by hash.
    names: Vec<(u64, u32)>,
    /// Keys of every word of every main name ("chiang" and "mai" of Chiang Mai), sorted.
    name_words: Vec<u64>,
    /// ISO code to the index of the country entry.
    countries: FxHashMap<String, u32>,
    /// Folded capital name to country code.
    capitals: FxHashMap<String, String>,
}

fn name_key(folded: &str) -> u64 {
    term_hash(b'g', folded, false)
}

impl Gazetteer {
    /// The embedded gazetteer, loaded on first use. A corrupt embedded file (a build defect, not
    /// input) yields an empty gazetteer rather than a panic: places are then simply not resolved.
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| Gazetteer::parse(&zstd::decode_all(DATA).unwrap_or_default()))
    }

    fn parse(raw: &[u8]) -> Gazetteer {
        let text = String::from_utf8_lossy(raw);
        let mut g = Gazetteer {
            places: Vec::new(),
            names: Vec::new(),
            name_words: Vec::new(),
            countries: FxHashMap::default(),
            capitals: FxHashMap::default(),
        };
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 7 {
                continue;
            }
            let kind = match cols[0] {
                "C" => PlaceKind::Country,
                "R" => PlaceKind::Region,
                "A" => PlaceKind::RegionNamedLikeCity,
                _ => PlaceKind::City,
            };
            let idx = g.places.len() as u32;
            g.places.push(GeoPlace {
                kind,
                geonames_id: cols[1].parse().ok().filter(|&id| id != 0),
                country: cols[2].to_string(),
                region: cols[3].to_string(),
                population: cols[4].parse().unwrap_or(0),
                name: cols[5].to_string(),
            });
            let main_name = fold(cols[5]);
            // Regions without a GeoNames id come from a looser source whose names include
            // people's (Mubarak, Anthony): they do not make a word a place word.
            if g.places[idx as usize].geonames_id.is_some() {
                g.name_words.extend(
                    main_name
                        .split(|c: char| c.is_whitespace() || c == '-')
                        .filter(|w| !w.is_empty())
                        .map(name_key),
                );
            }
            g.names.push((name_key(&main_name), idx << 1));
            for alias in cols[6].split('|').filter(|a| !a.is_empty()) {
                g.names.push((name_key(&fold(alias)), idx << 1 | 1));
            }
            if kind == PlaceKind::Country {
                g.countries.insert(cols[2].to_string(), idx);
                if let Some(capital) = cols.get(7).filter(|c| !c.is_empty()) {
                    g.capitals.insert(fold(capital), cols[2].to_string());
                }
            }
        }
        g.names.sort_unstable();
        g.names.dedup();
        g.name_words.sort_unstable();
        g.name_words.dedup();
        g
    }

    /// Every place called `folded` (main or alternate name).
    pub fn lookup(&self, folded: &str) -> impl Iterator<Item = NameHit> + '_ {
        let key = name_key(folded);
        let start = self.names.partition_point(|(h, _)| *h < key);
        self.names[start..]
            .iter()
            .take_while(move |(h, _)| *h == key)
            .map(|(_, v)| NameHit {
                place: v >> 1,
                by_alias: v & 1 == 1,
            })
    }

    /// Whether `folded` (one word) is a word of some place's main name.
    pub fn is_name_word(&self, folded: &str) -> bool {
        self.name_words.binary_search(&name_key(folded)).is_ok()
    }

    pub fn country(&self, iso: &str) -> Option<&GeoPlace> {
        self.countries.get(iso).map(|i| &self.places[*i as usize])
    }

    /// The country whose capital is called `folded`.
    pub fn capital_of(&self, folded: &str) -> Option<&str> {
        self.capitals.get(folded).map(String::as_str)
    }
}

/// Adjectives and nouns for a country's people, army or government ("Azeri troops"), folded.
/// GeoNames has no demonyms, so this list is ours; it covers the countries most often in the news.
const DEMONYMS: &[(&str, &str)] = &[
    ("afghan", "AF"),
    ("albanian", "AL"),
    ("algerian", "DZ"),
    ("american", "US"),
    ("argentine", "AR"),
    ("argentinian", "AR"),
    ("armenian", "AM"),
    ("armenians", "AM"),
    ("australian", "AU"),
    ("austrian", "AT"),
    ("azerbaijani", "AZ"),
    ("azerbaijanis", "AZ"),
    ("azeri", "AZ"),
    ("azeris", "AZ"),
    ("bangladeshi", "BD"),
    ("belarusian", "BY"),
    ("belgian", "BE"),
    ("bolivian", "BO"),
    ("bosnian", "BA"),
    ("brazilian", "BR"),
    ("british", "GB"),
    ("bulgarian", "BG"),
    ("burmese", "MM"),
    ("cambodian", "KH"),
    ("cameroonian", "CM"),
    ("canadian", "CA"),
    ("chilean", "CL"),
    ("chinese", "CN"),
    ("colombian", "CO"),
    ("congolese", "CD"),
    ("croatian", "HR"),
    ("cuban", "CU"),
    ("cypriot", "CY"),
    ("czech", "CZ"),
    ("danish", "DK"),
    ("dutch", "NL"),
    ("ecuadorian", "EC"),
    ("egyptian", "EG"),
    ("emirati", "AE"),
    ("eritrean", "ER"),
    ("estonian", "EE"),
    ("ethiopian", "ET"),
    ("filipino", "PH"),
    ("finnish", "FI"),
    ("french", "FR"),
    ("georgian", "GE"),
    ("german", "DE"),
    ("ghanaian", "GH"),
    ("greek", "GR"),
    ("haitian", "HT"),
    ("hungarian", "HU"),
    ("icelandic", "IS"),
    ("indian", "IN"),
    ("indonesian", "ID"),
    ("iranian", "IR"),
    ("iraqi", "IQ"),
    ("irish", "IE"),
    ("israeli", "IL"),
    ("israelis", "IL"),
    ("italian", "IT"),
    ("ivorian", "CI"),
    ("jamaican", "JM"),
    ("japanese", "JP"),
    ("jordanian", "JO"),
    ("kazakh", "KZ"),
    ("kenyan", "KE"),
    ("korean", "KR"),
    ("kosovar", "XK"),
    ("kurdish", "IQ"),
    ("kuwaiti", "KW"),
    ("kyrgyz", "KG"),
    ("latvian", "LV"),
    ("lebanese", "LB"),
    ("libyan", "LY"),
    ("lithuanian", "LT"),
    ("malaysian", "MY"),
    ("malian", "ML"),
    ("mexican", "MX"),
    ("moldovan", "MD"),
    ("mongolian", "MN"),
    ("moroccan", "MA"),
    ("nepalese", "NP"),
    ("nigerian", "NG"),
    ("nigerien", "NE"),
    ("norwegian", "NO"),
    ("pakistani", "PK"),
    ("palestinian", "PS"),
    ("palestinians", "PS"),
    ("peruvian", "PE"),
    ("polish", "PL"),
    ("portuguese", "PT"),
    ("qatari", "QA"),
    ("romanian", "RO"),
    ("russian", "RU"),
    ("russians", "RU"),
    ("rwandan", "RW"),
    ("saudi", "SA"),
    ("senegalese", "SN"),
    ("serbian", "RS"),
    ("singaporean", "SG"),
    ("slovak", "SK"),
    ("slovenian", "SI"),
    ("somali", "SO"),
    ("spanish", "ES"),
    ("sudanese", "SD"),
    ("swedish", "SE"),
    ("swiss", "CH"),
    ("syrian", "SY"),
    ("taiwanese", "TW"),
    ("tajik", "TJ"),
    ("thai", "TH"),
    ("tunisian", "TN"),
    ("turkish", "TR"),
    ("turkmen", "TM"),
    ("ugandan", "UG"),
    ("ukrainian", "UA"),
    ("ukrainians", "UA"),
    ("uzbek", "UZ"),
    ("venezuelan", "VE"),
    ("vietnamese", "VN"),
    ("yemeni", "YE"),
    ("zimbabwean", "ZW"),
];

/// Institutions and buildings that stand for a country's government, folded.
const INSTITUTIONS: &[(&str, &str)] = &[
    ("kremlin", "RU"),
    ("white house", "US"),
    ("pentagon", "US"),
    ("state department", "US"),
    ("downing street", "GB"),
    ("whitehall", "GB"),
    ("elysee", "FR"),
    ("bundestag", "DE"),
    ("knesset", "IL"),
    ("duma", "RU"),
    ("zhongnanhai", "CN"),
];

/// Organisations reported as actors in their own right.
const GROUPS: &[&str] = &[
    "NATO",
    "European Union",
    "United Nations",
    "African Union",
    "OSCE",
    "Hamas",
    "Hezbollah",
    "Taliban",
    "Islamic State",
    "ISIS",
    "al-Qaeda",
    "Al Qaeda",
    "Wagner",
    "Red Cross",
    "IAEA",
    "WHO",
];

/// The country a demonym or institution (folded) stands for.
pub fn country_of_word(folded: &str) -> Option<&'static str> {
    static MAP: OnceLock<FxHashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        DEMONYMS
            .iter()
            .chain(INSTITUTIONS.iter())
            .copied()
            .collect()
    })
    .get(folded)
    .copied()
}

/// The canonical group name when `surface` (as written; `folded` is its folded form)
/// names a known group. An acronym that is also a word counts only in capitals: "WHO" is
/// the organisation, "Who" a question; others in any case ("Nato", "Isis", as British
/// papers write them).
pub fn group_of(surface: &str, folded: &str) -> Option<&'static str> {
    const ACRONYMS_THAT_ARE_WORDS: &[&str] = &["WHO"];
    static MAP: OnceLock<FxHashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        GROUPS
            .iter()
            .map(|g| (g.to_ascii_lowercase(), *g))
            .collect()
    })
    .get(folded)
    .copied()
    .filter(|group| !ACRONYMS_THAT_ARE_WORDS.contains(group) || surface == *group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitals_and_cities_resolve() {
        let g = Gazetteer::get();
        assert!(g.places.len() > 30_000, "embedded gazetteer loads");
        assert_eq!(g.capital_of("baku"), Some("AZ"));
        assert_eq!(g.capital_of("yerevan"), Some("AM"));
        let hits: Vec<_> = g.lookup("yerevan").collect();
        assert!(
            hits.iter()
                .any(|h| g.places[h.place as usize].country == "AM")
        );
        let erevan: Vec<_> = g.lookup("erevan").collect();
        assert!(
            erevan
                .iter()
                .any(|h| h.by_alias && g.places[h.place as usize].name == "Yerevan")
        );
        assert_eq!(g.country("AZ").map(|c| c.name.as_str()), Some("Azerbaijan"));
        assert_eq!(country_of_word("azeri"), Some("AZ"));
        assert_eq!(country_of_word("kremlin"), Some("RU"));
    }

    #[test]
    fn acronyms_name_groups_only_in_capitals() {
        assert_eq!(group_of("WHO", "who"), Some("WHO"));
        assert_eq!(group_of("Who", "who"), None);
        assert_eq!(group_of("Hamas", "hamas"), Some("Hamas"));
        assert_eq!(group_of("Nato", "nato"), Some("NATO"));
    }
}
