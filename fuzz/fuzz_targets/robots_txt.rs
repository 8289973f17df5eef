//! robots.txt bodies → `texting_robots::Robot`, driven exactly as the fetcher does
//! (crates/fetcher/src/client/mod.rs: `Robot::new(agent, body)`, then `allowed(url)` and the
//! crawl delay, which politeness.rs clamps).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The fetcher cuts robots.txt at 500 KiB before parsing.
    let body = &data[..data.len().min(500 * 1024)];
    let Ok(robot) = texting_robots::Robot::new("newswire", body) else {
        return;
    };
    for url in [
        "https://news.example.org/",
        "https://news.example.org/2026/01/02/story.html?utm_source=x",
        "https://news.example.org/%E2%82%AC/caf%C3%A9",
        "/relative/path",
    ] {
        let _ = robot.allowed(url);
    }
    if let Some(delay) = robot.delay.filter(|d| d.is_finite() && *d > 0.0) {
        let _ = std::time::Duration::from_secs_f32(delay.min(30.0));
    }
});
