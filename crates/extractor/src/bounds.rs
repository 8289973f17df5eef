//! Length caps for metadata fields.
//!
//! Titles, summaries, author names and tags come from attributes and elements the page
//! controls: a hostile or broken page can put a megabyte into `<title>` or `og:description`.
//! Records are shown in UIs and indexed, so each field is cut to a generous, documented
//! limit (far above any real value) with a warning, instead of growing with the input.

use crate::Article;

/// Longest title kept, in characters (real headlines stay under 300).
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest summary kept, in characters (real descriptions stay under 1,000).
pub const MAX_SUMMARY_CHARS: usize = 5_000;
/// Longest author name kept, in characters.
pub const MAX_AUTHOR_CHARS: usize = 200;
/// Most authors kept.
pub const MAX_AUTHORS: usize = 50;
/// Longest tag kept, in characters.
pub const MAX_TAG_CHARS: usize = 200;
/// Longest site name kept, in characters.
pub const MAX_SITE_NAME_CHARS: usize = 300;

/// Cuts `value` to at most `max` characters, at the last space in the final tenth when
/// there is one (so that a word is not split), and trims the end.
fn cut(value: &mut String, max: usize) -> bool {
    let Some((byte_end, _)) = value.char_indices().nth(max) else {
        return false;
    };
    let head = &value[..byte_end];
    let floor = head.len() - head.len() / 10;
    let end = match head.rfind(' ') {
        Some(space) if space >= floor => space,
        _ => byte_end,
    };
    value.truncate(end);
    let trimmed = value.trim_end().len();
    value.truncate(trimmed);
    true
}

/// Applies the caps to `article`'s metadata; returns one warning per field that was cut.
pub fn bound_fields(article: &mut Article) -> Vec<String> {
    let mut warnings = Vec::new();
    let note = |warnings: &mut Vec<String>, field: &str, max: usize| {
        warnings.push(format!("{field} longer than {max} characters was cut"));
    };
    if let Some(title) = article.title.as_mut()
        && cut(title, MAX_TITLE_CHARS)
    {
        note(&mut warnings, "title", MAX_TITLE_CHARS);
    }
    if let Some(summary) = article.summary.as_mut()
        && cut(summary, MAX_SUMMARY_CHARS)
    {
        note(&mut warnings, "summary", MAX_SUMMARY_CHARS);
    }
    if let Some(site) = article.site_name.as_mut()
        && cut(site, MAX_SITE_NAME_CHARS)
    {
        note(&mut warnings, "site name", MAX_SITE_NAME_CHARS);
    }
    if article.authors.len() > MAX_AUTHORS {
        article.authors.truncate(MAX_AUTHORS);
        warnings.push(format!("more than {MAX_AUTHORS} authors: list cut"));
    }
    let mut author_cut = false;
    for author in &mut article.authors {
        author_cut |= cut(author, MAX_AUTHOR_CHARS);
    }
    if author_cut {
        note(&mut warnings, "author name", MAX_AUTHOR_CHARS);
    }
    let mut tag_cut = false;
    for tag in &mut article.tags {
        tag_cut |= cut(tag, MAX_TAG_CHARS);
    }
    if tag_cut {
        note(&mut warnings, "tag", MAX_TAG_CHARS);
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_fields_are_untouched() {
        let mut article = Article {
            title: Some("Rain returns to the valley".into()),
            summary: Some("Farmers welcome the first rain in months.".into()),
            authors: vec!["Ana Ruiz".into()],
            tags: vec!["weather".into()],
            ..Article::default()
        };
        let before = article.clone();
        assert!(bound_fields(&mut article).is_empty());
        assert_eq!(article, before);
    }

    #[test]
    fn huge_fields_are_cut_at_a_word_with_a_warning() {
        let words = "Headline words ".repeat(10_000);
        let mut article = Article {
            title: Some(words.clone()),
            summary: Some(words.clone()),
            authors: vec![words.clone(); 80],
            tags: vec![words.clone()],
            site_name: Some(words.clone()),
            ..Article::default()
        };
        let warnings = bound_fields(&mut article);
        let title = article.title.as_deref().unwrap_or_default();
        assert!(title.chars().count() <= MAX_TITLE_CHARS);
        assert!(title.chars().count() > MAX_TITLE_CHARS * 9 / 10);
        assert!(
            title.ends_with("words") || title.ends_with("Headline"),
            "{title}"
        );
        let summary = article.summary.as_deref().unwrap_or_default();
        assert!(summary.chars().count() <= MAX_SUMMARY_CHARS);
        assert_eq!(article.authors.len(), MAX_AUTHORS);
        assert!(
            article
                .authors
                .iter()
                .all(|a| a.chars().count() <= MAX_AUTHOR_CHARS)
        );
        assert!(
            article
                .tags
                .iter()
                .all(|t| t.chars().count() <= MAX_TAG_CHARS)
        );
        assert_eq!(warnings.len(), 6, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("title longer than 1000"))
        );
    }

    #[test]
    fn text_without_spaces_is_cut_on_a_char_boundary() {
        let mut title = "異".repeat(3_000);
        assert!(cut(&mut title, MAX_TITLE_CHARS));
        assert_eq!(title.chars().count(), MAX_TITLE_CHARS);
    }
}
