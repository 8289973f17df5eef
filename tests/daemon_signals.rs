//! Daemon mode: SIGTERM in the middle of a run drains the work in flight, flushes the
//! sink, commits the state and exits 0; the state is then consistent (a following pass
//! emits nothing that was already delivered, and nothing twice).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{FixtureServer, Resource, newswire_bin, read_records, run_newswire, write_config};

fn page(n: usize) -> String {
    format!(
        "<html lang=\"en\"><head><title>Story {n}</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>Story {n}</h1>\
         <p>This is the opening paragraph of story number {n}, which describes in some detail what happened in the harbour district on the day in question.</p>\
         <p>The second paragraph of story {n} adds reactions from residents, officials and shop owners, and explains what is expected to happen next week.</p>\
         </article><footer>Footer text</footer></body></html>"
    )
}

#[test]
fn sigterm_drains_commits_and_exits_zero() {
    let server = FixtureServer::start();
    let base = server.url("");
    let mut items = String::new();
    for n in 0..40 {
        server.put(&format!("/s/{n}"), Resource::ok("text/html", page(n)));
        items.push_str(&format!(
            "<item><title>Story {n}</title><link>{base}/s/{n}</link><guid>s-{n}</guid></item>"
        ));
    }
    server.put(
        "/feed.xml",
        Resource::ok(
            "application/rss+xml",
            format!("<rss version=\"2.0\"><channel><title>Harbour</title>{items}</channel></rss>"),
        ),
    );

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 5\n\n[[feed]]\nurl = \"{}\"\ninterval = \"1h\"\n",
            server.url("/feed.xml")
        ),
    );
    let mut child = Command::new(newswire_bin())
        .args(["run", "--config", config.to_str().unwrap()])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start daemon");

    // Wait until some records are durable, then stop it mid-run.
    let start = Instant::now();
    while read_records(&dir.path().join("out")).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "daemon produced nothing in 30s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "daemon did not exit within 30s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(exit.code(), Some(0), "clean exit after SIGTERM: {stderr}");

    let delivered = read_records(&dir.path().join("out"));
    let mut ids: Vec<&str> = delivered
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), delivered.len(), "no record twice");

    // State is consistent: a pass delivers exactly the rest, once.
    let rest = run_newswire(
        &["run", "--once", "--config", config.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        rest.status.success(),
        "{}",
        String::from_utf8_lossy(&rest.stderr)
    );
    let all = read_records(&dir.path().join("out"));
    let mut all_ids: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    all_ids.sort();
    all_ids.dedup();
    assert_eq!(all.len(), 40, "every story exactly once after the restart");
    assert_eq!(all_ids.len(), 40);
}
