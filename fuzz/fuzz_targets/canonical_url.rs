//! Text → `url::Url` → `newswire_core::canonical::canonicalize`. Property: canonicalising
//! is idempotent (a record's id is the hash of the canonical URL, so a second pass that
//! changed it would give one article two ids).
#![no_main]

use libfuzzer_sys::fuzz_target;
use newswire_core::canonical::canonicalize;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = url::Url::parse(text) else {
        return;
    };
    let once = canonicalize(&url);
    let twice = canonicalize(&once);
    assert_eq!(once.as_str(), twice.as_str(), "input {text:?}");
});
