//! The feeds of a config, resolved: its `[[feed]]` entries and the outlines of its
//! `feeds_opml` file (relative `xmlUrl`s against the OPML file, folder titles as tags).

use std::path::PathBuf;

use newswire_core::config::Config;
use url::Url;

use crate::exit::Failure;
use crate::pipeline::FeedSpec;

/// The feeds of a config, resolved: the `[[feed]]` entries, then the `feeds_opml`
/// outlines that are not already listed (a `[[feed]]` entry wins over an outline).
pub fn feed_specs(config: &Config) -> Result<Vec<FeedSpec>, Failure> {
    let mut specs: Vec<FeedSpec> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for feed in &config.feeds {
        let url = config
            .feed_url(feed.url.get_ref())
            .map_err(|m| Failure::Usage(anyhow::anyhow!("{}: {m}", config.source.display())))?;
        if !seen.insert(url.to_string()) {
            continue;
        }
        specs.push(FeedSpec {
            url,
            name: feed.name.clone(),
            interval: feed.interval.map(|d| d.0),
            tags: feed.tags.clone(),
            respect_robots_txt: feed
                .respect_robots_txt
                .unwrap_or(config.fetch.respect_robots_txt),
        });
    }
    if config.feeds_opml.is_some() {
        let outlines = opml_feeds(config).map_err(|m| Failure::Usage(anyhow::anyhow!(m)))?;
        for outline in outlines {
            let spec = outline.map_err(|m| Failure::Usage(anyhow::anyhow!(m)))?;
            if seen.insert(spec.url.to_string()) {
                specs.push(spec);
            } else {
                tracing::debug!(feed = %spec.url, "feed listed in the OPML file and the config: once is enough");
            }
        }
    }
    Ok(specs)
}

/// The OPML file of a config, as given and resolved.
fn opml_path(config: &Config) -> Option<PathBuf> {
    config
        .feeds_opml
        .as_ref()
        .map(|p| config.resolve_path(p.get_ref()))
}

/// The feeds of the config's `feeds_opml` file; the outer error is about the file as a
/// whole, the inner ones about single outlines. Relative `xmlUrl`s are paths relative to
/// the OPML file; folder titles become tags.
pub fn opml_feeds(config: &Config) -> Result<Vec<Result<FeedSpec, String>>, String> {
    let Some(path) = opml_path(config) else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("feeds_opml {}: cannot read: {e}", path.display()))?;
    let outlines = newswire_fetcher::parse_opml(&text, &path.display().to_string())
        .map_err(|e| format!("feeds_opml: {e}"))?;
    let base = std::path::absolute(&path).unwrap_or(path.clone());
    let base_url = Url::from_file_path(&base).ok();
    Ok(outlines
        .into_iter()
        .map(|outline| {
            let raw = outline.url.trim();
            let url = match Url::parse(raw) {
                Ok(url) => Ok(url),
                Err(url::ParseError::RelativeUrlWithoutBase) => base_url
                    .as_ref()
                    .ok_or_else(|| "no base".to_string())
                    .and_then(|b| b.join(raw).map_err(|e| e.to_string())),
                Err(e) => Err(e.to_string()),
            }
            .map_err(|e| format!("{}: outline xmlUrl {raw:?}: {e}", path.display()))?;
            if !matches!(url.scheme(), "http" | "https" | "file") {
                return Err(format!(
                    "{}: outline xmlUrl {raw:?}: scheme {:?} is not supported (use http, https or file)",
                    path.display(),
                    url.scheme()
                ));
            }
            Ok(FeedSpec {
                url,
                name: outline.title,
                interval: None,
                tags: outline.categories,
                respect_robots_txt: config.fetch.respect_robots_txt,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config_in(dir: &Path, text: &str) -> Config {
        let path = dir.join("newswire.toml");
        std::fs::write(&path, text).unwrap();
        crate::config_file::read(&path).unwrap()
    }

    #[test]
    fn opml_outlines_resolve_against_the_opml_file_and_dedupe() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lists")).unwrap();
        std::fs::write(
            dir.path().join("lists/feeds.opml"),
            "<opml version=\"2.0\"><body><outline text=\"Local\" title=\"Local\">\
             <outline type=\"rss\" text=\"Near\" xmlUrl=\"near.xml\"/>\
             <outline type=\"rss\" text=\"Web\" xmlUrl=\"https://a.example/rss\"/>\
             </outline></body></opml>",
        )
        .unwrap();
        let config = config_in(
            dir.path(),
            "feeds_opml = \"lists/feeds.opml\"\n[[feed]]\nurl = \"https://a.example/rss\"\nname = \"A\"\n",
        );
        let specs = feed_specs(&config).unwrap();
        assert_eq!(specs.len(), 2, "{specs:?}");
        assert_eq!(specs[0].name.as_deref(), Some("A"), "[[feed]] wins");
        assert!(
            specs[1].url.path().ends_with("/lists/near.xml"),
            "{}",
            specs[1].url
        );
        assert_eq!(specs[1].tags, vec!["Local".to_string()]);
    }

    #[test]
    fn opml_with_a_bad_scheme_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("feeds.opml"),
            "<opml version=\"2.0\"><body><outline type=\"rss\" text=\"X\" xmlUrl=\"gopher://x.example/\"/></body></opml>",
        )
        .unwrap();
        let config = config_in(dir.path(), "feeds_opml = \"feeds.opml\"\n");
        let error = feed_specs(&config).unwrap_err().to_string();
        assert!(
            error.contains("feeds.opml") && error.contains("gopher"),
            "{error}"
        );
    }
}
