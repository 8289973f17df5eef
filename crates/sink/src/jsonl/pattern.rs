//! File names of a JSONL sink: the configured pattern with `{date}` and `{seq}`, rendered
//! for a new file and recognised again when the sink reconciles its directory at open.
//!
//! `{date}` is the UTC date the file was opened (`2026-11-21`), `{seq}` a sequence number
//! that grows by one per file across dates (zero-padded to six digits so names sort), which
//! is what lets the sink tell files beyond its committed one from older ones. A rotating
//! sink whose pattern has no `{seq}` gets `-{seq}` inserted before the extension
//! (`records.jsonl` -> `records-000001.jsonl`). Placeholders are only allowed in the file
//! name, not in directories, so one directory scan finds every file of the sink.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use regex::Regex;

/// What a directory entry is, relative to the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The JSONL file itself.
    Plain,
    /// Its complete zstd-compressed copy (`<name>.zst`).
    Compressed,
    /// A compression interrupted before its rename (`<name>.zst.tmp`): garbage.
    CompressingTemp,
}

/// The parsed `path` of a JSONL sink.
#[derive(Debug, Clone)]
pub struct FilePattern {
    dir: PathBuf,
    template: String,
    has_date: bool,
    matcher: Regex,
}

/// One file of the sink found in its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    pub seq: u64,
    pub kind: FileKind,
    pub path: PathBuf,
}

impl FilePattern {
    /// Parses `path` (already resolved against the config directory). `rotating` says
    /// whether the sink will ever open a second file (rotation configured or `{date}` used).
    pub fn new(path: &Path, rotating: bool) -> Result<FilePattern, String> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{} has no usable file name", path.display()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.to_string_lossy().contains('{') {
            return Err(format!(
                "{}: {{date}} and {{seq}} are only allowed in the file name, not in directories",
                path.display()
            ));
        }
        let has_date = name.contains("{date}");
        let mut template = name.to_string();
        if (rotating || has_date) && !template.contains("{seq}") {
            template = match template.rfind('.') {
                Some(dot) if dot > 0 => format!("{}-{{seq}}{}", &template[..dot], &template[dot..]),
                _ => format!("{template}-{{seq}}"),
            };
        }
        let mut expr = String::from("^");
        let mut rest = template.as_str();
        while let Some(open) = rest.find('{') {
            expr.push_str(&regex::escape(&rest[..open]));
            let tail = &rest[open..];
            if let Some(after) = tail.strip_prefix("{date}") {
                expr.push_str(r"\d{4}-\d{2}-\d{2}");
                rest = after;
            } else if let Some(after) = tail.strip_prefix("{seq}") {
                expr.push_str(r"(?P<seq>\d+)");
                rest = after;
            } else {
                return Err(format!(
                    "{}: unknown placeholder in {name:?} (only {{date}} and {{seq}} exist)",
                    path.display()
                ));
            }
        }
        expr.push_str(&regex::escape(rest));
        expr.push_str(r"(?P<suffix>\.zst|\.zst\.tmp)?$");
        let matcher = Regex::new(&expr).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(FilePattern {
            dir,
            template,
            has_date,
            matcher,
        })
    }

    /// The directory every file of the sink lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a new day starts a new file.
    pub fn has_date(&self) -> bool {
        self.has_date
    }

    /// Whether file names carry a sequence number (false: one file, never rotated).
    pub fn has_seq(&self) -> bool {
        self.template.contains("{seq}")
    }

    /// Where the sink notes its starting position until its first commit (see
    /// `files.rs`); hidden, next to the files.
    pub fn start_marker(&self) -> PathBuf {
        self.dir_or_dot()
            .join(format!(".{}.newswire-start", self.template))
    }

    /// The file name for sequence number `seq` opened on `date`.
    pub fn render(&self, date: NaiveDate, seq: u64) -> String {
        self.template
            .replace("{date}", &date.format("%Y-%m-%d").to_string())
            .replace("{seq}", &format!("{seq:06}"))
    }

    /// The sequence number and kind of `file_name`, when it belongs to the sink. A pattern
    /// without `{seq}` (a single, never rotated file) gives sequence 0.
    pub fn recognise(&self, file_name: &str) -> Option<(u64, FileKind)> {
        let captures = self.matcher.captures(file_name)?;
        let seq = match captures.name("seq") {
            Some(m) => m.as_str().parse().ok()?,
            None => 0,
        };
        let kind = match captures.name("suffix").map(|m| m.as_str()) {
            None => FileKind::Plain,
            Some(".zst") => FileKind::Compressed,
            Some(_) => FileKind::CompressingTemp,
        };
        Some((seq, kind))
    }

    /// Every file of the sink in its directory (none when the directory does not exist).
    pub fn scan(&self) -> std::io::Result<Vec<FoundFile>> {
        let entries = match std::fs::read_dir(self.dir_or_dot()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some((seq, kind)) = self.recognise(name) {
                found.push(FoundFile {
                    seq,
                    kind,
                    path: self.dir.join(name),
                });
            }
        }
        found.sort_by(|a, b| (a.seq, &a.path).cmp(&(b.seq, &b.path)));
        Ok(found)
    }

    /// The directory, as something `read_dir` and `File::open` accept.
    pub fn dir_or_dot(&self) -> &Path {
        if self.dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.dir
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
    }

    #[test]
    fn single_file_keeps_its_name() {
        let p = FilePattern::new(Path::new("out/records.jsonl"), false).unwrap();
        assert_eq!(p.render(date(), 0), "records.jsonl");
        assert_eq!(p.recognise("records.jsonl"), Some((0, FileKind::Plain)));
        assert_eq!(
            p.recognise("records.jsonl.zst"),
            Some((0, FileKind::Compressed))
        );
        assert_eq!(p.recognise("other.jsonl"), None);
        assert_eq!(p.dir(), Path::new("out"));
    }

    #[test]
    fn rotating_without_seq_inserts_it_before_the_extension() {
        let p = FilePattern::new(Path::new("out/records.jsonl"), true).unwrap();
        assert_eq!(p.render(date(), 7), "records-000007.jsonl");
        assert_eq!(
            p.recognise("records-000007.jsonl"),
            Some((7, FileKind::Plain))
        );
        assert_eq!(
            p.recognise("records-1234567.jsonl.zst.tmp"),
            Some((1_234_567, FileKind::CompressingTemp))
        );
        assert_eq!(p.recognise("records.jsonl"), None);
        let bare = FilePattern::new(Path::new("records"), true).unwrap();
        assert_eq!(bare.render(date(), 1), "records-000001");
    }

    #[test]
    fn date_and_seq_placeholders_render_and_parse() {
        let p = FilePattern::new(Path::new("/var/out/news-{date}.{seq}.jsonl"), false).unwrap();
        assert!(p.has_date());
        let name = p.render(date(), 12);
        assert_eq!(name, "news-2026-11-21.000012.jsonl");
        assert_eq!(p.recognise(&name), Some((12, FileKind::Plain)));
        assert_eq!(
            p.recognise("news-2026-11-21.000012.jsonl.zst"),
            Some((12, FileKind::Compressed))
        );
        assert_eq!(p.recognise("news-yesterday.000012.jsonl"), None);
        // Literal dots in the pattern are not wildcards.
        assert_eq!(p.recognise("news-2026-11-21x000012.jsonl"), None);
    }

    #[test]
    fn bad_patterns_are_explained() {
        let err = FilePattern::new(Path::new("out/{date}/r.jsonl"), true).unwrap_err();
        assert!(err.contains("only allowed in the file name"), "{err}");
        let err = FilePattern::new(Path::new("out/r-{hour}.jsonl"), true).unwrap_err();
        assert!(err.contains("unknown placeholder"), "{err}");
    }

    #[test]
    fn scan_lists_only_the_sinks_files_in_sequence_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "r-000002.jsonl",
            "r-000001.jsonl.zst",
            "r-000010.jsonl",
            "unrelated.txt",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let p = FilePattern::new(&dir.path().join("r.jsonl"), true).unwrap();
        let seqs: Vec<_> = p.scan().unwrap().iter().map(|f| (f.seq, f.kind)).collect();
        assert_eq!(
            seqs,
            vec![
                (1, FileKind::Compressed),
                (2, FileKind::Plain),
                (10, FileKind::Plain)
            ]
        );
        let missing = FilePattern::new(&dir.path().join("nope/r.jsonl"), true).unwrap();
        assert!(missing.scan().unwrap().is_empty());
    }
}
