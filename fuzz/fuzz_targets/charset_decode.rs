//! Bytes → `newswire_fetcher::charset::decode` as HTML and as XML, with and without a
//! Content-Type charset and a TLD hint. Property: bytes that are valid UTF-8 without a BOM
//! come back unchanged, whatever the page or header declares (DESIGN.md, known traps).
#![no_main]

use libfuzzer_sys::fuzz_target;
use newswire_fetcher::charset::{self, DocumentKind};

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("text/html; charset=iso-8859-1"),
    Some("text/html; charset=\"shift_jis\""),
    Some("text/xml;charset=utf-16"),
];
const TLDS: [Option<&[u8]>; 3] = [None, Some(b"ru"), Some(b"jp")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector & 3)];
    let tld = TLDS[usize::from(selector >> 2) % TLDS.len()];
    for kind in [DocumentKind::Html, DocumentKind::Xml] {
        let decoded = charset::decode(bytes, content_type, kind, tld);
        let has_bom = bytes.starts_with(b"\xEF\xBB\xBF")
            || bytes.starts_with(b"\xFF\xFE")
            || bytes.starts_with(b"\xFE\xFF");
        if !has_bom && let Ok(text) = std::str::from_utf8(bytes) {
            assert_eq!(decoded.text, text);
        }
        let _ = charset::relabel_xml_prolog_utf8(&decoded.text);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = charset::charset_param(text);
    }
});
