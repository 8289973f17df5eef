//! Text → the two other readers of untrusted markup in the fetcher: OPML feed lists
//! (`parse_opml`) and feed discovery in an HTML page (`discover_feeds`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = newswire_fetcher::parse_opml(&text, "fuzz.opml");
    let base = url::Url::parse("https://news.example.org/section/").expect("static URL");
    for feed in newswire_fetcher::discover_feeds(&text, &base) {
        let _ = feed;
    }
});
