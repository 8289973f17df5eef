//! TOML text → `newswire_core::config::Config` (strict parse, lenient parse that collects
//! every problem with its line, the semantic checks, and the line lookup of keys).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use newswire_core::config::{self, Config};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/newswire.toml");
    let (lenient, problems) = Config::parse_lenient(text, path);
    for problem in &problems {
        let _ = problem.to_string();
    }
    let _ = lenient.problems(text);
    if let Ok(config) = Config::parse(text, path) {
        for feed in &config.feeds {
            let _ = config.feed_url(feed.url.get_ref());
        }
        let _ = config.state_location();
    }
    let _ = config::value_line(text, "fetch", None, "timeout");
    let _ = config::value_line(text, "feed", Some(0), "url");
});
