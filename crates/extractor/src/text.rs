//! Small text helpers shared by body and metadata extraction: whitespace normalisation,
//! entity-free cleaning and the boilerplate phrase test.

/// Collapses every run of whitespace (including no-break spaces) to one space and trims.
pub fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_collapsed(&mut out, s);
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    out
}

/// Appends `s` to `out` with whitespace runs collapsed, never starting `out` with a space
/// and never doubling one across calls.
pub fn push_collapsed(out: &mut String, s: &str) {
    let mut pending_space = !out.is_empty() && !out.ends_with(' ') && s.starts_with(is_space);
    for part in s.split(is_space) {
        if part.is_empty() {
            pending_space = !out.is_empty() && !out.ends_with(' ');
            continue;
        }
        if pending_space && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(part);
        pending_space = true;
    }
    if s.ends_with(is_space) && !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// Whitespace as it matters in HTML text, plus the no-break and zero-width spaces that
/// real pages scatter in text.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}' | '\u{2060}')
}

/// Number of non-space characters: the length measure used by the scoring.
pub fn content_chars(s: &str) -> usize {
    if s.is_ascii() {
        return s
            .bytes()
            .filter(|b| !b.is_ascii_whitespace() && *b != 0x0b)
            .count();
    }
    s.chars().filter(|c| !is_space(*c)).count()
}

/// Number of word tokens (runs of alphanumeric characters), as the evaluation counts them.
pub fn word_count(s: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for c in s.chars() {
        let word = c.is_alphanumeric() || c == '_';
        if word && !in_word {
            count += 1;
        }
        in_word = word;
    }
    count
}

/// Short lines that are page furniture rather than article text, in the languages the
/// pipeline meets most. Matched against a lowercased line of at most a few words.
const BOILERPLATE_LINES: &[&str] = &[
    "advertisement",
    "advertising",
    "sponsored",
    "sponsored content",
    "read more",
    "read more:",
    "read more here",
    "continue reading",
    "continue reading below",
    "story continues below",
    "article continues below",
    "story continues below advertisement",
    "share",
    "share this",
    "share this article",
    "share this story",
    "share on facebook",
    "share on twitter",
    "tweet",
    "email",
    "print",
    "comments",
    "related",
    "related articles",
    "related stories",
    "related content",
    "more on this story",
    "recommended",
    "skip to content",
    "skip to main content",
    "back to top",
    "click here",
    "subscribe",
    "sign up",
    "log in",
    "remind me later",
    "weiterlesen",
    "mehr zum thema",
    "anzeige",
    "leia mais",
    "leia também",
    "publicidade",
    "publicidad",
    "lee también",
    "pubblicità",
    "leggi anche",
    "lire aussi",
    "publicité",
    "читайте также",
    "реклама",
    // German, French, Spanish, Italian, Dutch, Polish, Japanese, Chinese: the same kinds of
    // furniture (advertising labels, "read also", sharing, printing, comments).
    "werbung",
    "lesen sie auch",
    "auch interessant",
    "artikel teilen",
    "teilen",
    "drucken",
    "kommentare",
    "zum artikel",
    "mehr zum thema:",
    "lire la suite",
    "à lire aussi",
    "a lire aussi",
    "partager",
    "imprimer",
    "commentaires",
    "sur le même sujet",
    "lea también",
    "leer más",
    "compartir",
    "imprimir",
    "comentarios",
    "noticias relacionadas",
    "continua a leggere",
    "condividi",
    "stampa",
    "commenti",
    "articoli correlati",
    "advertentie",
    "lees ook",
    "lees meer",
    "delen",
    "reacties",
    "reklama",
    "czytaj także",
    "czytaj też",
    "czytaj więcej",
    "udostępnij",
    "komentarze",
    "pr",
    "広告",
    "関連記事",
    "関連リンク",
    "続きを読む",
    "印刷",
    "シェア",
    "相关新闻",
    "相关阅读",
    "广告",
    "分享",
];

/// Phrases that mark a short block as an appeal, a sign-up box, a consent notice or a
/// photo credit wherever they occur in it.
const BOILERPLATE_MARKERS: &[&str] = &[
    "sign up for our",
    "sign up to our",
    "subscribe to our",
    "newsletter",
    "all rights reserved",
    "copyright ©",
    "© copyright",
    "cookie policy",
    "we use cookies",
    "uses cookies",
    "privacy policy",
    "terms of use",
    "terms of service",
    "support our journalism",
    "support independent journalism",
    "please support",
    "make a donation",
    "donate now",
    "become a member",
    "become a subscriber",
    "already a subscriber",
    "subscribe now",
    "click here to",
    "follow us on",
    "download our app",
    "get the app",
    "enable javascript",
    "your browser does not support",
    "image copyright",
    "getty images",
    "photo credit",
    "image credit",
    "picture alliance",
    "this article was originally published",
    "skip to ",
    // German, French, Spanish, Italian, Dutch, Polish, Japanese, Chinese.
    "alle rechte vorbehalten",
    "melden sie sich für",
    "abonnieren sie",
    "jetzt abonnieren",
    "tous droits réservés",
    "abonnez-vous",
    "inscrivez-vous",
    "todos los derechos reservados",
    "suscríbete",
    "tutti i diritti riservati",
    "iscriviti alla",
    "alle rechten voorbehouden",
    "wszelkie prawa zastrzeżone",
    "無断転載",
    "無断複製",
    "転載禁止",
    "版权所有",
    "版權所有",
    "未经授权",
];

/// Whether `line` (one paragraph of output) is page furniture.
pub fn is_boilerplate_line(line: &str) -> bool {
    let len = line.len();
    if len > 400 {
        return false;
    }
    let lower = line.to_lowercase();
    let bare = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != ':');
    // "Lesen Sie auch:" and "Lesen Sie auch" are one label.
    if len <= 220
        && (BOILERPLATE_LINES.contains(&bare)
            || BOILERPLATE_LINES.contains(&bare.trim_end_matches(':')))
    {
        return true;
    }
    let markers = BOILERPLATE_MARKERS
        .iter()
        .filter(|m| lower.contains(*m))
        .count();
    // A longer paragraph needs two kinds of marker ("newsletter" and "privacy policy"):
    // sign-up boxes set inside the body run to two sentences, an article sentence that
    // mentions a newsletter rarely names a privacy policy as well.
    if markers >= 2 && len <= 400 {
        return true;
    }
    if len > 160 {
        return false;
    }
    if markers > 0 {
        return true;
    }
    // "Photo: Jane Doe/Agency", "Image: …", "Credit: …", "Foto: …" — captions and credits.
    let credit_prefixes = [
        "photo:",
        "image:",
        "credit:",
        "foto:",
        "bild:",
        "photograph:",
        "picture:",
        "source:",
    ];
    if len < 120 && credit_prefixes.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    false
}

/// Labels that open a date line ("Updated 3 May 2021, 10:04"), in the languages above.
const DATE_LINE_LABELS: &[&str] = &[
    "updated",
    "last updated",
    "published",
    "posted",
    "first published",
    "aktualisiert",
    "veröffentlicht",
    "stand:",
    "mis à jour",
    "publié",
    "actualizado",
    "publicado",
    "aggiornato",
    "pubblicato",
    "bijgewerkt",
    "gepubliceerd",
    "zaktualizowano",
    "opublikowano",
    "更新",
    "公開",
    "配信",
    "发布",
    "發佈",
];

/// Whether `line`, met before any body text was written, is page furniture that sits above
/// the article: a short date line ("Updated …", "Veröffentlicht am …"), an advertising
/// label. (Anywhere else such a line may be prose.)
pub fn is_leading_furniture(line: &str) -> bool {
    // A bare numeric date line ("2031年5月3日 10時04分", "03.05.2031 10:04").
    let bare_date = line.chars().all(|c| {
        c.is_ascii_digit()
            || is_space(c)
            || matches!(
                c,
                '.' | '/' | '-' | ':' | ',' | '年' | '月' | '日' | '時' | '分' | '秒'
            )
    });
    if bare_date && line.chars().filter(char::is_ascii_digit).count() >= 6 {
        return true;
    }
    // Short, and carrying a date's worth of digits (a year, or day, month and time).
    if line.chars().count() > 70 || line.chars().filter(char::is_ascii_digit).count() < 4 {
        return false;
    }
    let lower = line.to_lowercase();
    let bare = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
    DATE_LINE_LABELS.iter().any(|l| bare.starts_with(l))
}

/// Decodes the HTML character references left in text that the HTML parser did not see
/// (JSON-LD is script text, so `&amp;` and `&#8217;` stay escaped there). Unknown names
/// are left as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..]
            .char_indices()
            .take(10)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i + 1);
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let code = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok()
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse::<u32>().ok()
            } else {
                NAMED_ENTITIES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| *c as u32)
            };
            code.and_then(char::from_u32).map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The named references that occur in titles and names.
const NAMED_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("hellip", '…'),
    ("laquo", '«'),
    ("raquo", '»'),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_up_boxes_inside_the_body_are_furniture() {
        assert!(is_boilerplate_line(
            "Liked this piece? Join the Sunday Digest, our free newsletter with the week's most \
             important stories, delivered every weekend. Your address stays with us; read our privacy policy."
        ));
        assert!(!is_boilerplate_line(
            "The ministry said it would publish the figures in its weekly newsletter, which \
             analysts read closely for hints about the budget and about next year's spending plans."
        ));
    }

    #[test]
    fn furniture_phrases_are_recognised_in_many_languages() {
        for line in [
            "Werbung",
            "Lesen Sie auch:",
            "À lire aussi",
            "Lea también",
            "Leggi anche",
            "Lees ook",
            "Czytaj także",
            "[PR]",
            "関連記事",
            "© 2031 Ein Verlag. Alle Rechte vorbehalten.",
            "3 時間前 無断転載禁止",
            "Tous droits réservés",
        ] {
            assert!(is_boilerplate_line(line), "{line}");
        }
        assert!(!is_boilerplate_line(
            "Die Stadt will die Rechte der Mieter stärken, sagte die Senatorin am Montag."
        ));
    }

    #[test]
    fn date_lines_above_the_article_are_furniture() {
        assert!(is_leading_furniture("Updated on May 3, 2031 at 10:04 a.m."));
        assert!(is_leading_furniture("Veröffentlicht am 03.05.2031"));
        assert!(is_leading_furniture("Mis à jour le 3 mai 2031"));
        assert!(is_leading_furniture("更新日：2031年5月3日"));
        assert!(is_leading_furniture("2031年5月3日 10時04分"));
        assert!(!is_leading_furniture("2031"));
        assert!(!is_leading_furniture(
            "Updated figures show the river rose 3 metres overnight, officials said."
        ));
        assert!(!is_leading_furniture(
            "Published reports say the 2031 budget will be cut by a third, the minister said."
        ));
    }

    #[test]
    fn collapses_all_kinds_of_space() {
        assert_eq!(normalize_space("  a\u{a0}\u{a0}b\n\t c  "), "a b c");
    }

    #[test]
    fn push_collapsed_joins_fragments_with_single_spaces() {
        let mut out = String::new();
        push_collapsed(&mut out, "  Hello ");
        push_collapsed(&mut out, "world");
        push_collapsed(&mut out, ",");
        push_collapsed(&mut out, " again");
        assert_eq!(out, "Hello world, again");
    }

    #[test]
    fn counts_words_like_the_benchmark() {
        assert_eq!(word_count("It's a well-known fact, 42 times."), 8);
    }

    #[test]
    fn recognises_furniture_but_not_prose() {
        assert!(is_boilerplate_line("Read more"));
        assert!(is_boilerplate_line(
            "Sign up for our weekly digest of the best stories"
        ));
        assert!(is_boilerplate_line("Photo: A. Person / Some Agency"));
        assert!(!is_boilerplate_line(
            "The council voted on Tuesday to read more carefully the terms it had agreed last year."
        ));
    }

    #[test]
    fn character_references_are_decoded() {
        assert_eq!(decode_entities("Floods &amp; storms"), "Floods & storms");
        assert_eq!(decode_entities("won&#8217;t &#x2014; &rsquo;"), "won’t — ’");
        assert_eq!(
            decode_entities("AT&T &unknown; & done"),
            "AT&T &unknown; & done"
        );
        assert_eq!(decode_entities("trailing &"), "trailing &");
    }
}
