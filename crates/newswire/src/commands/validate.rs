//! `newswire validate --config FILE`: every problem of a config at once, each with its
//! file and line.

use std::path::Path;

use newswire_core::config::{Config, Problem, SinkConfig, line_of, value_line};

use crate::config_file::read_text;
use crate::exit::Failure;
use crate::feed_list::{feed_specs, opml_feeds};

/// `newswire validate --config FILE`: every problem at once, each with file and line
/// where it has one: syntax, types, unknown keys, semantic checks, feed files and the OPML
/// file that do not exist, directories that cannot be created, duplicate feeds.
pub fn validate(path: &Path) -> Result<(), Failure> {
    let text = read_text(path)?;
    let (config, mut problems) = Config::parse_lenient(&text, path);
    problems.extend(config.problems(&text));
    problems.extend(path_problems(&config, &text));
    problems.sort_by_key(|p| p.line.unwrap_or(0));
    problems.dedup();
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Err(Failure::Usage(anyhow::anyhow!(
            "{}: {} problem{} found",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )));
    }
    let feeds = feed_specs(&config)?;
    println!(
        "{}: ok ({} feeds, {} sinks)",
        path.display(),
        feeds.len(),
        config.sinks.len().max(1)
    );
    Ok(())
}

/// Problems of the files and directories a config names.
fn path_problems(config: &Config, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut at = |line: Option<usize>, message: String| {
        problems.push(Problem {
            file: config.source.clone(),
            line,
            message,
        });
    };
    let mut listed = std::collections::HashMap::new();
    for feed in &config.feeds {
        let line = line_of(text, feed.url.span().start);
        let Ok(url) = config.feed_url(feed.url.get_ref()) else {
            continue; // reported by Config::problems
        };
        listed.entry(url.to_string()).or_insert(line);
        if let Ok(file) = url.to_file_path()
            && !file.is_file()
        {
            at(
                Some(line),
                format!("feed file {} does not exist", file.display()),
            );
        }
    }
    if let Some(opml) = &config.feeds_opml {
        let line = Some(line_of(text, opml.span().start));
        match opml_feeds(config) {
            Err(message) => at(line, message),
            Ok(outlines) => {
                for outline in outlines {
                    match outline {
                        Err(message) => at(line, message),
                        Ok(spec) => {
                            if let Some(first) = listed.get(spec.url.as_str()) {
                                at(
                                    line,
                                    format!(
                                        "feed {} is listed in feeds_opml and on line {first}",
                                        spec.url
                                    ),
                                );
                            } else if let Ok(file) = spec.url.to_file_path()
                                && !file.is_file()
                            {
                                at(
                                    line,
                                    format!(
                                        "feed file {} (from feeds_opml) does not exist",
                                        file.display()
                                    ),
                                );
                            }
                            listed.entry(spec.url.to_string()).or_insert(0);
                        }
                    }
                }
            }
        }
    }
    let state = config.state_location();
    if !state.starts_with("nats://") && state != ":memory:" {
        let dir = Path::new(&state).parent().unwrap_or(Path::new("."));
        if let Err(message) = creatable_dir(dir) {
            at(
                value_line(text, "state", None, "path"),
                format!("state.path {state}: {message}"),
            );
        }
    }
    for (index, sink) in config.sinks.iter().enumerate() {
        let SinkConfig::Jsonl(jsonl) = sink else {
            continue;
        };
        let file = config.resolve_path(&jsonl.path);
        let Some(dir) = file.parent() else { continue };
        // A rotation pattern may put `{date}` in the directory: check what is fixed.
        if dir.to_string_lossy().contains('{') {
            continue;
        }
        if let Err(message) = creatable_dir(dir) {
            at(
                value_line(text, "sink", Some(index), "path"),
                format!("sink.path {}: {message}", file.display()),
            );
        }
    }
    problems
}

/// Whether `dir` exists as a writable directory or could be created: the nearest
/// existing ancestor must be a directory we can write to (probed by creating and
/// removing a file, since permission bits do not tell about ACLs or read-only mounts).
fn creatable_dir(dir: &Path) -> Result<(), String> {
    let absolute = std::path::absolute(dir).unwrap_or(dir.to_path_buf());
    let mut probe: &Path = &absolute;
    loop {
        match std::fs::metadata(probe) {
            Ok(meta) if meta.is_dir() => {
                let marker = probe.join(format!(".newswire-validate-{}", std::process::id()));
                return match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&marker)
                {
                    Ok(_) => {
                        let _ = std::fs::remove_file(&marker);
                        Ok(())
                    }
                    Err(e) => Err(format!(
                        "directory {} cannot be created: cannot write in {}: {e}",
                        absolute.display(),
                        probe.display()
                    )),
                };
            }
            Ok(_) => {
                return Err(format!(
                    "directory {} cannot be created: {} is not a directory",
                    absolute.display(),
                    probe.display()
                ));
            }
            Err(_) => match probe.parent() {
                Some(parent) => probe = parent,
                None => {
                    return Err(format!(
                        "directory {} cannot be created",
                        absolute.display()
                    ));
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creatable_dir_walks_up_to_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(creatable_dir(&dir.path().join("a/b/c")), Ok(()));
        assert!(!dir.path().join("a").exists(), "nothing created");
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let error = creatable_dir(&dir.path().join("file/sub")).unwrap_err();
        assert!(error.contains("is not a directory"), "{error}");
    }
}
