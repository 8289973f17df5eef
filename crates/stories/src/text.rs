//! Text to features: tokens, name folding, stemming, and the weighted term vector of an article.
//!
//! Terms are hashed (no vocabulary to keep, so the state stays bounded); `features.rs` folds the
//! hash to 32 bits whose two lowest bits say whether a term is *specific* (a proper noun, a
//! number, a resolved place or actor: the incident's identity, while ordinary words carry its
//! kind) and whether it is a place, actor or figure.

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashSet;
use unicode_normalization::UnicodeNormalization;

/// Lower-case, diacritics removed (NFKD without combining marks), for comparing names.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A looser key for transliteration variants of one name: folded, letters only, doubled letters
/// collapsed (Farrukh and Farukh share it).
pub fn variant_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = '\0';
    for c in fold(s).chars().filter(|c| c.is_alphanumeric()) {
        if c != last {
            out.push(c);
        }
        last = c;
    }
    out
}

/// True when `a` and `b` differ by at most one insertion, deletion or substitution.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    if short.len() == long.len() {
        return short
            .iter()
            .zip(long.iter())
            .filter(|(x, y)| x != y)
            .count()
            <= 1;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    short[prefix..] == long[prefix + 1..]
}

/// One token of running text.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    pub text: &'a str,
    /// First token of a line or after `.`, `!`, `?`, `:` — its capital says nothing.
    pub sentence_start: bool,
    pub capitalized: bool,
    pub numeric: bool,
    /// Byte offset of the token in the text (to join adjacent capitalised tokens into names).
    pub start: usize,
}

/// Splits text into word and number tokens. Hand-written because it must keep `6.1`, `$200`
/// and `U.S.`-style tokens together and note sentence starts in one pass, at stream speed.
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut sentence_start = true;
    let bytes = text.as_bytes();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                let joins = d.is_alphanumeric()
                    || ((d == '.' || d == ',' || d == '\'' || d == '’' || d == '-')
                        && text[j + d.len_utf8()..]
                            .chars()
                            .next()
                            .is_some_and(|n| n.is_alphanumeric())
                        && (d != ',' || c.is_ascii_digit()));
                if !joins {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let word = &text[i..end];
            let word = word
                .strip_suffix("'s")
                .or_else(|| word.strip_suffix("’s"))
                .unwrap_or(word);
            let numeric = word.chars().next().is_some_and(|c| c.is_ascii_digit());
            out.push(Token {
                text: word,
                sentence_start,
                capitalized: c.is_uppercase(),
                numeric,
                start: i,
            });
            sentence_start = false;
        } else if c == '\n' || c == '!' || c == '?' || c == ':' || c == '"' || c == '“' {
            sentence_start = true;
        } else if c == '.' {
            // "Mr. Smith" keeps its capital meaningful; a full stop after a longer word ends a sentence.
            let prev_short = out
                .last()
                .is_some_and(|t: &Token| t.text.len() <= 2 && t.start + t.text.len() == i);
            if !prev_short || bytes.get(i + 1) == Some(&b'\n') {
                sentence_start = true;
            }
        }
    }
    out
}

/// The Snowball stemmer for an ISO 639-1 language code, English when unknown.
pub fn stemmer_for(language: Option<&str>) -> Stemmer {
    let algorithm = match language
        .map(|l| l.get(..2).unwrap_or(l).to_ascii_lowercase())
        .as_deref()
    {
        Some("ar") => Algorithm::Arabic,
        Some("da") => Algorithm::Danish,
        Some("nl") => Algorithm::Dutch,
        Some("fi") => Algorithm::Finnish,
        Some("fr") => Algorithm::French,
        Some("de") => Algorithm::German,
        Some("el") => Algorithm::Greek,
        Some("hu") => Algorithm::Hungarian,
        Some("it") => Algorithm::Italian,
        Some("no") | Some("nb") | Some("nn") => Algorithm::Norwegian,
        Some("pt") => Algorithm::Portuguese,
        Some("ro") => Algorithm::Romanian,
        Some("ru") => Algorithm::Russian,
        Some("es") => Algorithm::Spanish,
        Some("sv") => Algorithm::Swedish,
        Some("ta") => Algorithm::Tamil,
        Some("tr") => Algorithm::Turkish,
        _ => Algorithm::English,
    };
    Stemmer::create(algorithm)
}

/// English function words and news filler; in other languages the online IDF does this job.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "me",
    "more",
    "most",
    "my",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "said",
    "says",
    "say",
    "told",
    "according",
    "reported",
    "report",
    "reports",
    "news",
    "new",
    "one",
    "two",
    "year",
    "years",
    "last",
    "first",
    "time",
    "people",
    "may",
    "like",
    "get",
    "got",
    "make",
    "made",
    "us",
    "mr",
    "mrs",
    "ms",
    "dr",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "yesterday",
    "week",
    "day",
    "days",
    "image",
    "photo",
    "read",
    "copyright",
    "reuters",
    "ap",
    "afp",
    "click",
    "share",
];

/// Capitalised words that start names in headlines and sentences but are not names themselves.
pub fn is_stopword(folded: &str) -> bool {
    static SET: std::sync::OnceLock<FxHashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect())
        .contains(folded)
}

/// 64-bit FNV-1a; stable across builds and platforms, so term hashes can be persisted.
pub fn term_hash(kind: u8, s: &str, specific: bool) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(kind);
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & !1) | u64::from(specific)
}

/// The stems of the words that are written with a capital inside sentences (proper nouns).
pub fn proper_stems(toks: &[Token<'_>], stemmer: &Stemmer) -> FxHashSet<String> {
    let mut set = FxHashSet::default();
    for t in toks {
        if t.capitalized && !t.sentence_start && !t.numeric {
            let f = fold(t.text);
            if !is_stopword(&f) && f.chars().count() > 1 {
                set.insert(stemmer.stem(&f).into_owned());
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_folded_words() {
        assert!(is_stopword("the") && is_stopword("said") && !is_stopword("kremlin"));
        assert!(STOPWORDS.iter().all(|w| fold(w) == *w));
    }

    #[test]
    fn transliteration_variants_share_a_key_or_one_edit() {
        assert_eq!(variant_key("Farrukh"), variant_key("Farukh"));
        assert!(within_one_edit(
            &variant_key("Parukh"),
            &variant_key("Farukh")
        ));
        assert!(within_one_edit("abc", "abd"));
        assert!(within_one_edit("abc", "abxc"));
        assert!(!within_one_edit("abc", "xyz"));
        assert_eq!(fold("Şuşa Zürich"), "susa zurich");
    }

    #[test]
    fn tokens_keep_numbers_and_mark_sentence_starts() {
        let t = tokens("A 6.1 quake hit Lima. Officials in Peru said $200 million.");
        let words: Vec<&str> = t.iter().map(|t| t.text).collect();
        assert_eq!(
            words,
            [
                "A",
                "6.1",
                "quake",
                "hit",
                "Lima",
                "Officials",
                "in",
                "Peru",
                "said",
                "200",
                "million"
            ]
        );
        assert!(t[0].sentence_start && t[5].sentence_start && !t[7].sentence_start);
        assert!(t[1].numeric);
    }
}
