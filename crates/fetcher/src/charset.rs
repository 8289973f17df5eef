//! Browser-like character set decoding of pages and feeds.
//!
//! The order follows what browsers do, with one rule learnt from real news sites: a body
//! that is entirely valid UTF-8 is UTF-8, whatever its labels say (sites often declare
//! windows-1252 or ISO-8859-1 in a template while serving UTF-8). Otherwise: byte order
//! mark, then the HTTP `charset`, then the document's own declaration (`<meta charset>` /
//! `<meta http-equiv>` for HTML, also past the first 1024 bytes; the `<?xml encoding?>`
//! prolog for feeds), then chardetng on a bounded prefix. A declaration of UTF-8 on bytes
//! that are not UTF-8 is known to be false and is skipped.

use std::sync::OnceLock;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use regex::bytes::Regex;

/// How much of a document is searched for a `<meta>` declaration. Browsers stop at 1024
/// bytes, but real pages put their meta tag after large inline scripts and styles.
const META_SCAN_BYTES: usize = 64 * 1024;
/// How much of a document chardetng sees: enough for a confident guess, bounded because
/// chardetng costs milliseconds on whole pages.
const DETECT_BYTES: usize = 32 * 1024;

/// What kind of document is being decoded; decides which in-document declaration counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Html,
    Xml,
}

/// Where the chosen encoding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    ByteOrderMark,
    ValidUtf8,
    HttpHeader,
    Document,
    Detected,
}

/// A decoded document.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub source: CharsetSource,
}

/// Decodes `bytes` to UTF-8 text. `content_type` is the HTTP header value, `tld` the
/// top-level domain of the URL (a hint for detection, e.g. `b"ru"`).
pub fn decode(
    bytes: &[u8],
    content_type: Option<&str>,
    kind: DocumentKind,
    tld: Option<&[u8]>,
) -> Decoded {
    let (encoding, source) = choose_encoding(bytes, content_type, kind, tld);
    decode_as(bytes, encoding, source)
}

fn decode_as(bytes: &[u8], encoding: &'static Encoding, source: CharsetSource) -> Decoded {
    let text = match source {
        CharsetSource::ByteOrderMark => encoding.decode_with_bom_removal(bytes).0.into_owned(),
        _ => encoding.decode_without_bom_handling(bytes).0.into_owned(),
    };
    Decoded {
        text,
        encoding,
        source,
    }
}

/// [`decode`] of a body the caller no longer needs: valid UTF-8 (nearly every page)
/// becomes the text without a copy and without being validated twice.
pub fn decode_owned(
    bytes: Vec<u8>,
    content_type: Option<&str>,
    kind: DocumentKind,
    tld: Option<&[u8]>,
) -> Decoded {
    if Encoding::for_bom(&bytes).is_some() {
        return decode(&bytes, content_type, kind, tld);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Decoded {
            text,
            encoding: UTF_8,
            source: CharsetSource::ValidUtf8,
        },
        Err(not_utf8) => {
            let bytes = not_utf8.as_bytes();
            let (encoding, source) = choose_legacy_encoding(bytes, content_type, kind, tld);
            decode_as(bytes, encoding, source)
        }
    }
}

/// Decides the encoding of `bytes` without decoding them.
pub fn choose_encoding(
    bytes: &[u8],
    content_type: Option<&str>,
    kind: DocumentKind,
    tld: Option<&[u8]>,
) -> (&'static Encoding, CharsetSource) {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return (encoding, CharsetSource::ByteOrderMark);
    }
    if kind == DocumentKind::Xml
        && let Some(encoding) = utf16_without_bom(bytes)
    {
        return (encoding, CharsetSource::Detected);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (UTF_8, CharsetSource::ValidUtf8);
    }
    choose_legacy_encoding(bytes, content_type, kind, tld)
}

/// UTF-16 without a byte order mark, told by the first markup character as the XML
/// specification's Appendix F (and the Universal Feed Parser) reads it: `<` followed by a
/// NUL, then a non-NUL and a NUL, is little-endian; the mirror image is big-endian. (Such
/// bytes are valid UTF-8, full of NULs, so this comes before the UTF-8 check.)
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<', 0, c, 0, ..] if *c != 0 => Some(encoding_rs::UTF_16LE),
        [0, b'<', 0, c, ..] if *c != 0 => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
}

/// [`choose_encoding`] for bytes known to start without a byte order mark and not to be
/// valid UTF-8: the header's charset, then the document's declaration, then detection.
fn choose_legacy_encoding(
    bytes: &[u8],
    content_type: Option<&str>,
    kind: DocumentKind,
    tld: Option<&[u8]>,
) -> (&'static Encoding, CharsetSource) {
    let header = content_type.and_then(charset_param).and_then(usable_label);
    if let Some(encoding) = header {
        return (encoding, CharsetSource::HttpHeader);
    }
    let declared = match kind {
        DocumentKind::Html => meta_charset(bytes).or_else(|| prolog_encoding(bytes)),
        DocumentKind::Xml => prolog_encoding(bytes).or_else(|| meta_charset(bytes)),
    };
    if let Some(encoding) = declared.and_then(usable_label) {
        return (encoding, CharsetSource::Document);
    }
    (detect(bytes, tld), CharsetSource::Detected)
}

/// The encoding for a label, unless the label cannot be true of bytes that are not UTF-8
/// (UTF-8 itself, and UTF-16 without a BOM, which browsers also treat as a mistake).
fn usable_label(label: &[u8]) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label(label)?;
    if encoding == UTF_8 || encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return None;
    }
    if encoding == encoding_rs::X_USER_DEFINED || encoding == encoding_rs::REPLACEMENT {
        return Some(WINDOWS_1252);
    }
    Some(encoding)
}

/// The `charset` parameter of a Content-Type value.
pub fn charset_param(content_type: &str) -> Option<&[u8]> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("charset") {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
            (!value.is_empty()).then_some(value.as_bytes())
        } else {
            None
        }
    })
}

fn meta_charset(bytes: &[u8]) -> Option<&[u8]> {
    static META: OnceLock<Regex> = OnceLock::new();
    let re = META.get_or_init(|| {
        Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.+\-]+)"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let prefix = &bytes[..bytes.len().min(META_SCAN_BYTES)];
    re.captures(prefix)
        .and_then(|c| c.get(1))
        .map(|m| m.as_bytes())
}

fn prolog_encoding(bytes: &[u8]) -> Option<&[u8]> {
    static PROLOG: OnceLock<Regex> = OnceLock::new();
    let re = PROLOG.get_or_init(|| {
        Regex::new(r#"(?-u)\A\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let prefix = &bytes[..bytes.len().min(1024)];
    re.captures(prefix)
        .and_then(|c| c.get(1))
        .map(|m| m.as_bytes())
}

fn detect(bytes: &[u8], tld: Option<&[u8]>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    let prefix = &bytes[..bytes.len().min(DETECT_BYTES)];
    detector.feed(prefix, prefix.len() == bytes.len());
    let tld = tld.filter(|t| chardetng::EncodingDetector::tld_may_affect_guess(Some(t)));
    detector.guess(tld, chardetng::Utf8Detection::Allow)
}

/// Rewrites the encoding named in an XML prolog to UTF-8, for text that has already been
/// decoded (otherwise the XML parser would decode it a second time).
pub fn relabel_xml_prolog_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    static PROLOG: OnceLock<regex::Regex> = OnceLock::new();
    let re = PROLOG.get_or_init(|| {
        regex::Regex::new(r#"\A(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let head_end = text.len().min(1024);
    let head_end = (0..=head_end)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    match re.find(&text[..head_end]) {
        Some(_) => re.replace(text, "${1}\"UTF-8\""),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// The last label of a URL host, as chardetng wants it.
pub fn tld_of(url: &url::Url) -> Option<&[u8]> {
    url.host_str()
        .and_then(|h| h.rsplit('.').next())
        .map(str::as_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        encoding.encode(text).0.into_owned()
    }

    #[test]
    fn decoding_an_owned_body_equals_decoding_a_borrowed_one() {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(FRENCH.as_bytes());
        let bodies = [
            FRENCH.as_bytes().to_vec(),
            with_bom,
            encode(WINDOWS_1252, FRENCH),
            windows_1251_meta_after_1024(),
            Vec::new(),
        ];
        for body in bodies {
            let borrowed = decode(&body, Some("text/html"), DocumentKind::Html, Some(b"ru"));
            let owned = decode_owned(body, Some("text/html"), DocumentKind::Html, Some(b"ru"));
            assert_eq!(owned.text, borrowed.text);
            assert_eq!(owned.encoding, borrowed.encoding);
            assert_eq!(owned.source, borrowed.source);
        }
    }

    const RUSSIAN: &str = "Президент России заявил журналистам, что переговоры продолжатся на следующей неделе в Москве.";
    const FRENCH: &str = "Le café de l'été coûte très cher à Noël, déclare le ministre français.";

    /// A page whose only declaration sits after 1,500 bytes of inline script.
    fn windows_1251_meta_after_1024() -> Vec<u8> {
        let mut html = String::from("<!doctype html><html><head><script>");
        html.push_str(&"var x = 1;\n".repeat(150));
        html.push_str("</script><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><body><p>");
        html.push_str(RUSSIAN);
        html.push_str("</p></body></html>");
        encode(encoding_rs::WINDOWS_1251, &html)
    }

    #[test]
    fn charset_fixture_table() {
        let koi8 = encode(
            encoding_rs::KOI8_R,
            &format!("<html><body><p>{RUSSIAN}</p></body></html>"),
        );
        let latin1_meta = encode(
            WINDOWS_1252,
            &format!(
                "<html><head><meta charset=\"iso-8859-1\"></head><body>{FRENCH}</body></html>"
            ),
        );
        let windows_1252_header = encode(WINDOWS_1252, &format!("<p>{FRENCH} “quoted” €</p>"));
        let utf8_mislabelled = format!(
            "<html><head><meta charset=\"windows-1252\"></head><body>{FRENCH} {RUSSIAN}</body></html>"
        )
        .into_bytes();
        let wrong_prolog_feed = encode(
            WINDOWS_1252,
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{FRENCH}</title></channel></rss>"
            ),
        );
        let prolog_only_feed = encode(
            encoding_rs::WINDOWS_1251,
            &format!(
                "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss version=\"2.0\"><channel><title>{RUSSIAN}</title></channel></rss>"
            ),
        );
        let undeclared_cyrillic = encode(
            encoding_rs::WINDOWS_1251,
            &format!("<html><body><p>{RUSSIAN} {RUSSIAN}</p></body></html>"),
        );
        let utf8_bom = [&[0xEF, 0xBB, 0xBF][..], RUSSIAN.as_bytes()].concat();

        type Case<'a> = (
            &'a str,
            Vec<u8>,
            Option<&'a str>,
            DocumentKind,
            &'a str,
            &'static Encoding,
            CharsetSource,
        );
        let cases: Vec<Case> = vec![
            (
                "windows-1251-meta-after-1024.html",
                windows_1251_meta_after_1024(),
                Some("text/html"),
                DocumentKind::Html,
                RUSSIAN,
                encoding_rs::WINDOWS_1251,
                CharsetSource::Document,
            ),
            (
                "koi8-r-by-header.html",
                koi8,
                Some("text/html; charset=KOI8-R"),
                DocumentKind::Html,
                RUSSIAN,
                encoding_rs::KOI8_R,
                CharsetSource::HttpHeader,
            ),
            (
                "iso-8859-1-meta.html",
                latin1_meta,
                None,
                DocumentKind::Html,
                FRENCH,
                WINDOWS_1252,
                CharsetSource::Document,
            ),
            (
                "windows-1252-header.html",
                windows_1252_header,
                Some("text/html; charset=\"windows-1252\""),
                DocumentKind::Html,
                "“quoted” €",
                WINDOWS_1252,
                CharsetSource::HttpHeader,
            ),
            (
                "utf-8-mislabelled-windows-1252.html",
                utf8_mislabelled,
                Some("text/html; charset=windows-1252"),
                DocumentKind::Html,
                RUSSIAN,
                UTF_8,
                CharsetSource::ValidUtf8,
            ),
            (
                "windows-1252-incorrect-prolog.xml",
                wrong_prolog_feed,
                Some("application/rss+xml; charset=windows-1252"),
                DocumentKind::Xml,
                FRENCH,
                WINDOWS_1252,
                CharsetSource::HttpHeader,
            ),
            (
                "windows-1251-prolog-only.xml",
                prolog_only_feed,
                Some("text/xml"),
                DocumentKind::Xml,
                RUSSIAN,
                encoding_rs::WINDOWS_1251,
                CharsetSource::Document,
            ),
            (
                "windows-1251-undeclared.html",
                undeclared_cyrillic,
                Some("text/html"),
                DocumentKind::Html,
                RUSSIAN,
                encoding_rs::WINDOWS_1251,
                CharsetSource::Detected,
            ),
            (
                "utf-8-bom.txt",
                utf8_bom,
                Some("text/html; charset=iso-8859-1"),
                DocumentKind::Html,
                RUSSIAN,
                UTF_8,
                CharsetSource::ByteOrderMark,
            ),
        ];
        for (name, bytes, content_type, kind, expected_text, expected_encoding, expected_source) in
            cases
        {
            let decoded = decode(&bytes, content_type, kind, Some(b"ru"));
            assert!(
                decoded.text.contains(expected_text),
                "{name}: {}",
                decoded.text
            );
            assert_eq!(decoded.encoding, expected_encoding, "{name}");
            assert_eq!(decoded.source, expected_source, "{name}");
            assert!(!decoded.text.starts_with('\u{feff}'), "{name}: BOM kept");
        }
    }

    #[test]
    fn charset_param_forms() {
        assert_eq!(
            charset_param("text/html; charset=UTF-8"),
            Some(&b"UTF-8"[..])
        );
        assert_eq!(
            charset_param("text/html;charset=\"koi8-r\""),
            Some(&b"koi8-r"[..])
        );
        assert_eq!(
            charset_param("text/html; Charset = 'cp1251' ; q=1"),
            Some(&b"cp1251"[..])
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("text/html; charset="), None);
    }

    #[test]
    fn prolog_is_relabelled_after_decoding() {
        let text = "<?xml version='1.0' encoding='windows-1251'?><rss/>";
        assert_eq!(
            relabel_xml_prolog_utf8(text),
            "<?xml version='1.0' encoding=\"UTF-8\"?><rss/>"
        );
        assert_eq!(relabel_xml_prolog_utf8("<rss/>"), "<rss/>");
    }
}
