//! Feed bytes → `newswire_fetcher::parse_feed` (RSS 0.9x/1.0/2.0, Atom, JSON Feed, the
//! repair pass and the quick-xml scan that fills what feed-rs left empty). The first byte
//! picks the Content-Type the server claimed, since it steers charset decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/rss+xml"),
    Some("application/atom+xml; charset=iso-8859-1"),
    Some("text/xml; charset=windows-1251"),
    Some("application/feed+json"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let base = url::Url::parse("https://news.example.org/feeds/main.xml").expect("static URL");
    let _ = newswire_fetcher::parse_feed(body, content_type, &base);
});
