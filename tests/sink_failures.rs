//! A sink that cannot write stops the pipeline with a clear error and a non-zero exit,
//! commits nothing of the failed batch, and once the problem is fixed a restart delivers
//! every record exactly once.
//!
//! Two failures: a read-only output directory (the sink must create a file there), and a
//! full disk, simulated with the JSONL sink's capacity hook
//! (`NEWSWIRE_TEST_JSONL_CAPACITY`: writes past that many bytes fail with ENOSPC after
//! writing what fits, as a real full disk does).
//!
//! Permission checks do not apply to root, so when the test runs as root it runs the
//! daemon as `nobody` (uid 65534) and hands the test directory to that user.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{FixtureServer, Resource, newswire_bin};
use newswire_state::{SqliteState, StateStore};

const NOBODY: u32 = 65534;

fn page(n: usize) -> String {
    format!(
        "<html lang=\"en\"><head><title>Report {n}</title></head><body><nav><a href=\"/\">Home</a></nav>\
         <article><h1>Report {n}</h1>\
         <p>Report number {n} opens with an account of the committee hearing, where members questioned the \
         water authority about the leaks found along the eastern main during the winter months.</p>\
         <p>In the second part of report {n}, residents describe the disruption and the authority sets out a \
         timetable for repairs that it says will be finished before the end of the year.</p>\
         </article><footer>Footer</footer></body></html>"
    )
}

/// Serves `count` articles in one feed (replacing the feed's previous body).
fn serve(server: &FixtureServer, count: usize) {
    let base = server.url("");
    let mut items = String::new();
    for n in 0..count {
        server.put(&format!("/r/{n}"), Resource::ok("text/html", page(n)));
        items.push_str(&format!(
            "<item><title>Report {n}</title><link>{base}/r/{n}</link><guid>r-{n}</guid></item>"
        ));
    }
    server.put(
        "/feed.xml",
        Resource::ok(
            "application/rss+xml",
            format!("<rss version=\"2.0\"><channel><title>Reports</title>{items}</channel></rss>"),
        ),
    );
}

fn write_config(dir: &Path, server: &FixtureServer, sink_extra: &str) -> PathBuf {
    let text = format!(
        "[state]\npath = \"state/newswire.db\"\n\n[fetch]\nallow_private_networks = [\"127.0.0.1/32\"]\n\
         per_host_min_delay = \"0ms\"\nretries = 0\n\n\
         [[sink]]\ntype = \"jsonl\"\npath = \"out/records.jsonl\"\nflush_records = 1\n{sink_extra}\n\
         [[feed]]\nurl = \"{}\"\n",
        server.url("/feed.xml")
    );
    let path = dir.join("newswire.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Runs `newswire run --once`, as `uid` when given, with extra environment.
fn run_once(config: &Path, dir: &Path, uid: Option<u32>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(newswire_bin());
    command
        .args([
            "run",
            "--once",
            "--config",
            config.to_str().expect("utf-8 path"),
        ])
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove(common::JSONL_CAPACITY_ENV);
    for (key, value) in env {
        command.env(key, value);
    }
    if let Some(uid) = uid {
        command.uid(uid).gid(uid);
    }
    command.output().expect("run newswire")
}

/// Every record line of every output file; panics on a line that is not whole JSON.
fn records(out: &Path) -> Vec<serde_json::Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut all = Vec::new();
    for path in names {
        let bytes = newswire_sink::jsonl::read_file(&path).expect("read output");
        let text = String::from_utf8(bytes).expect("UTF-8 output");
        for (n, line) in text.lines().enumerate() {
            all.push(
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{}:{}: not JSON: {e}", path.display(), n + 1)),
            );
        }
    }
    all
}

fn assert_each_once(records: &[serde_json::Value], count: usize) {
    let mut ids: Vec<&str> = records
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "a record was delivered twice");
    assert_eq!(records.len(), count, "every article delivered");
}

fn emitted(dir: &Path) -> u64 {
    SqliteState::open_read_only(dir.join("state/newswire.db"))
        .and_then(|s| s.stats())
        .map(|s| s.emitted_records)
        .unwrap_or(0)
}

/// Whether this process ignores file permissions (root, or CAP_DAC_OVERRIDE).
fn permissions_are_bypassed(probe_dir: &Path) -> bool {
    let probe = probe_dir.join("probe");
    std::fs::create_dir(&probe).expect("probe dir");
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let bypassed = std::fs::write(probe.join("x"), b"x").is_ok();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::remove_dir_all(&probe).expect("remove probe");
    bypassed
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            chown_tree(&entry.path(), uid);
        }
    }
}

#[test]
fn read_only_output_directory_stops_cleanly_and_a_restart_delivers_the_rest() {
    let server = FixtureServer::start();
    serve(&server, 4);
    let dir = tempfile::tempdir().expect("tempdir");
    // Every record gets its own file, so a new file must be created for each batch.
    let config = write_config(dir.path(), &server, "rotate_bytes = 1\n");
    let uid = permissions_are_bypassed(dir.path()).then_some(NOBODY);
    if let Some(uid) = uid {
        eprintln!("running as root: the daemon runs as uid {uid} so permissions apply");
        chown_tree(dir.path(), uid);
    }
    let out = dir.path().join("out");

    let first = run_once(&config, dir.path(), uid, &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_each_once(&records(&out), 4);
    assert_eq!(emitted(dir.path()), 4);

    // Four more articles, and the directory becomes read-only.
    serve(&server, 8);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let failed = run_once(&config, dir.path(), uid, &[]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "must fail: {stderr}");
    assert!(
        stderr.contains("Permission denied") && stderr.contains("out/records"),
        "the error names the file and the cause: {stderr}"
    );
    assert_eq!(
        emitted(dir.path()),
        4,
        "nothing of the failed batch committed"
    );

    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let fixed = run_once(&config, dir.path(), uid, &[]);
    assert!(
        fixed.status.success(),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    assert_each_once(&records(&out), 8);
    assert_eq!(emitted(dir.path()), 8);
}

#[test]
fn full_disk_stops_cleanly_and_a_restart_after_the_fix_delivers_everything_once() {
    let server = FixtureServer::start();
    serve(&server, 10);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &server, "");
    let out = dir.path().join("out");

    // Room for a few records: the first batches are committed, then a write fails halfway.
    let full = run_once(
        &config,
        dir.path(),
        None,
        &[(common::JSONL_CAPACITY_ENV, "5000")],
    );
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert!(!full.status.success(), "must fail: {stderr}");
    assert!(
        stderr.contains("No space left on device") && stderr.contains("out/records.jsonl"),
        "the error names the file and the cause: {stderr}"
    );
    let file_len = std::fs::metadata(out.join("records.jsonl"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(file_len, 5000, "the disk was filled up to the last byte");
    let committed = emitted(dir.path());
    assert!(
        (1..10).contains(&committed),
        "some records were committed before the disk filled, not all: {committed}"
    );

    let fixed = run_once(&config, dir.path(), None, &[]);
    assert!(
        fixed.status.success(),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    assert_each_once(&records(&out), 10);
    assert_eq!(emitted(dir.path()), 10);
}
