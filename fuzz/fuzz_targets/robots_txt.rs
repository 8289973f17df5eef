//! robots.txt bodies → the fetcher's own reading of them (`RobotsRules::from_body`, then
//! `allows(url)` and `crawl_delay`), as `crates/fetcher/src/client/mod.rs` uses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newswire_fetcher::{ROBOTS_MAX_BYTES, RobotsRules};

fuzz_target!(|data: &[u8]| {
    // The fetcher never parses a larger file (it disallows the site for a while instead).
    if data.len() as u64 > ROBOTS_MAX_BYTES {
        return;
    }
    let rules = RobotsRules::from_body("newswire", data);
    for url in [
        "https://news.example.org/",
        "https://news.example.org/2026/01/02/story.html?utm_source=x",
        "https://news.example.org/%E2%82%AC/caf%C3%A9",
        "/relative/path",
    ] {
        let _ = rules.allows(url);
    }
    let _ = rules.crawl_delay();
});
