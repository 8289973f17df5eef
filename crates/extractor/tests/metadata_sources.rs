//! One test per metadata source: each page carries a value in exactly one place, so a
//! broken source shows up by name. Also checks the documented precedence when sources
//! disagree.

use chrono::{TimeZone, Utc};
use newswire_extractor::{Article, FeedHints, extract};

const BODY: &str = "<p>The regional court heard on Thursday that the contract had been signed, amended and \
    then signed again, which the defence said showed that nobody had read it with any care.</p>";

fn page(head: &str, body_extra: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head>{head}</head><body><article>{body_extra}{BODY}</article></body></html>"
    )
}

fn run(head: &str, body_extra: &str) -> Article {
    extract(&page(head, body_extra), None, &FeedHints::default())
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<chrono::DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single()
}

// ---- titles ----

#[test]
fn title_from_json_ld_headline() {
    let a = run(
        r#"<script type="application/ld+json">{"@type":"NewsArticle","headline":"From JSON-LD"}</script><title>Other | Site</title>"#,
        "",
    );
    assert_eq!(a.title.as_deref(), Some("From JSON-LD"));
}

#[test]
fn title_from_open_graph() {
    let a = run(
        r#"<meta property="og:title" content="From Open Graph"><title>Other | Site</title>"#,
        "",
    );
    assert_eq!(a.title.as_deref(), Some("From Open Graph"));
}

#[test]
fn title_from_twitter_card() {
    let a = run(
        r#"<meta name="twitter:title" content="From Twitter"><title>Other | Site</title>"#,
        "",
    );
    assert_eq!(a.title.as_deref(), Some("From Twitter"));
}

#[test]
fn title_from_dublin_core() {
    let a = run(
        r#"<meta name="DC.title" content="From Dublin Core"><title>Other | Site</title>"#,
        "",
    );
    assert_eq!(a.title.as_deref(), Some("From Dublin Core"));
}

#[test]
fn title_from_microdata() {
    let a = run(
        "<title>Other | Site</title>",
        r#"<h2 itemprop="headline">From microdata</h2>"#,
    );
    assert_eq!(a.title.as_deref(), Some("From microdata"));
}

#[test]
fn title_from_title_element_without_site_suffix() {
    let a = run(
        "<title>Court hears contract was signed twice | The Example Herald</title>",
        "",
    );
    assert_eq!(
        a.title.as_deref(),
        Some("Court hears contract was signed twice")
    );
}

#[test]
fn title_from_h1_when_nothing_else() {
    let a = run("", "<h1>Only a heading</h1>");
    assert_eq!(a.title.as_deref(), Some("Only a heading"));
    assert!(
        !a.text.contains("Only a heading"),
        "the headline is not body text"
    );
}

#[test]
fn title_from_feed_last() {
    let hints = FeedHints {
        title: Some("From the feed".to_owned()),
        ..FeedHints::default()
    };
    let a = extract(&page("", ""), None, &hints);
    assert_eq!(a.title.as_deref(), Some("From the feed"));
}

// ---- authors ----

#[test]
fn authors_from_json_ld_array_of_people() {
    let a = run(
        r#"<script type="application/ld+json">[{"@type":"WebPage"},{"@type":"Article","author":[{"@type":"Person","name":"Ana Lima"},"By Ben Ortiz"]}]</script>"#,
        "",
    );
    assert_eq!(a.authors, vec!["Ana Lima", "Ben Ortiz"]);
}

#[test]
fn authors_from_meta_author() {
    let a = run(
        r#"<meta name="author" content="By Cora Diaz and Dev Patel">"#,
        "",
    );
    assert_eq!(a.authors, vec!["Cora Diaz", "Dev Patel"]);
}

#[test]
fn authors_from_article_author_but_not_urls() {
    let a = run(
        r#"<meta property="article:author" content="https://facebook.example/someone"><meta property="article:author" content="Eli Novak">"#,
        "",
    );
    assert_eq!(a.authors, vec!["Eli Novak"]);
}

#[test]
fn authors_from_dublin_core_creator() {
    let a = run(r#"<meta name="dc.creator" content="Fay Okafor">"#, "");
    assert_eq!(a.authors, vec!["Fay Okafor"]);
}

#[test]
fn authors_from_microdata_and_rel_author() {
    let a = run(
        "",
        r#"<span itemprop="author">By Gil Moreau</span> <a rel="author" href="/staff/hana">Hana Sato</a>"#,
    );
    assert_eq!(a.authors, vec!["Gil Moreau", "Hana Sato"]);
}

#[test]
fn authors_drop_agencies_dates_and_emails() {
    let a = run(
        r#"<meta name="author" content="Ivo Petrov, Reuters, 12.03.2021, desk@example.org">"#,
        "",
    );
    assert_eq!(a.authors, vec!["Ivo Petrov"]);
}

#[test]
fn authors_from_feed_last() {
    let hints = FeedHints {
        authors: vec!["Jo Park".to_owned()],
        ..FeedHints::default()
    };
    let a = extract(&page("", ""), None, &hints);
    assert_eq!(a.authors, vec!["Jo Park"]);
}

// ---- dates ----

#[test]
fn dates_from_json_ld_with_offset_to_utc() {
    let a = run(
        r#"<script type="application/ld+json">{"@type":"ReportageNewsArticle","datePublished":"2022-03-05T10:00:00+03:00","dateModified":"2022-03-05T12:30:00+03:00"}</script>"#,
        "",
    );
    assert_eq!(a.published_at, utc(2022, 3, 5, 7, 0));
    assert_eq!(a.updated_at, utc(2022, 3, 5, 9, 30));
}

#[test]
fn dates_from_open_graph_article_tags() {
    let a = run(
        r#"<meta property="article:published_time" content="2022-03-05T10:00:00-05:00"><meta property="article:modified_time" content="2022-03-06T00:00:00Z">"#,
        "",
    );
    assert_eq!(a.published_at, utc(2022, 3, 5, 15, 0));
    assert_eq!(a.updated_at, utc(2022, 3, 6, 0, 0));
}

#[test]
fn date_from_dublin_core() {
    let a = run(r#"<meta name="DC.date.issued" content="2021-11-30">"#, "");
    assert_eq!(a.published_at, utc(2021, 11, 30, 0, 0));
}

#[test]
fn date_from_meta_name_date() {
    let a = run(
        r#"<meta name="date" content="2020-06-01T08:15:00+0200">"#,
        "",
    );
    assert_eq!(a.published_at, utc(2020, 6, 1, 6, 15));
}

#[test]
fn date_from_microdata() {
    let a = run(
        "",
        r#"<meta itemprop="datePublished" content="2019-01-02T03:04:00Z">"#,
    );
    assert_eq!(a.published_at, utc(2019, 1, 2, 3, 4));
}

#[test]
fn date_from_time_element() {
    let a = run(
        "",
        r#"<p>Posted <time datetime="2018-07-08T09:10:00+01:00">Sunday morning</time></p>"#,
    );
    assert_eq!(a.published_at, utc(2018, 7, 8, 8, 10));
}

#[test]
fn date_from_feed_last_and_never_from_relative_words() {
    let hints = FeedHints {
        published_at: utc(2017, 5, 6, 7, 8),
        ..FeedHints::default()
    };
    let html = page(
        r#"<meta name="date" content="3 hours ago">"#,
        "<p>Updated yesterday, published last Monday.</p>",
    );
    let a = extract(&html, None, &hints);
    assert_eq!(a.published_at, utc(2017, 5, 6, 7, 8));
    let without_feed = extract(&html, None, &FeedHints::default());
    assert_eq!(without_feed.published_at, None);
}

// ---- precedence and the rest ----

#[test]
fn precedence_json_ld_over_open_graph_over_title() {
    let head = r#"<title>Title element | Site</title><meta property="og:title" content="OG title">
        <meta name="author" content="Meta Author"><meta property="article:published_time" content="2020-01-01T00:00:00Z">
        <script type="application/ld+json">{"@type":"NewsArticle","headline":"LD title","author":{"name":"LD Author"},"datePublished":"2021-01-01T00:00:00Z"}</script>"#;
    let a = run(head, "");
    assert_eq!(a.title.as_deref(), Some("LD title"));
    assert_eq!(a.authors, vec!["LD Author"]);
    assert_eq!(a.published_at, utc(2021, 1, 1, 0, 0));
}

#[test]
fn language_site_image_canonical_and_tags() {
    let head = r#"<meta property="og:site_name" content="The Example Herald"><meta property="og:image" content="/img/a.jpg">
        <link rel="canonical" href="/news/court"><meta name="keywords" content="courts, contracts">"#;
    let html = format!(
        "<!DOCTYPE html><html lang=\"en-GB\"><head>{head}</head><body><article>{BODY}</article></body></html>"
    );
    let url = url::Url::parse("https://herald.example/news/court?ref=home").ok();
    let a = extract(&html, url.as_ref(), &FeedHints::default());
    assert_eq!(a.language.as_deref(), Some("en"));
    assert_eq!(a.site_name.as_deref(), Some("The Example Herald"));
    assert_eq!(a.image.as_deref(), Some("https://herald.example/img/a.jpg"));
    assert_eq!(
        a.canonical_url.as_deref(),
        Some("https://herald.example/news/court")
    );
    assert_eq!(a.tags, vec!["courts", "contracts"]);
}

#[test]
fn declared_language_is_checked_against_the_text() {
    let html = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head></head><body><article>{BODY}{BODY}</article></body></html>"
    );
    let a = extract(&html, None, &FeedHints::default());
    assert_eq!(a.language.as_deref(), Some("en"));
    assert!(
        a.extraction
            .warnings
            .iter()
            .any(|w| w.contains("declared language fr"))
    );
}

// ---- dates on one line, in the body, and their precedence ----

#[test]
fn each_date_on_a_line_belongs_to_the_label_before_it() {
    let update_first = run(
        "",
        r#"<div class="dates">Updated: March 7, 2021 · Published: March 5, 2021</div>"#,
    );
    assert_eq!(update_first.published_at, utc(2021, 3, 5, 0, 0));
    assert_eq!(update_first.updated_at, utc(2021, 3, 7, 0, 0));
    let byline = run(
        "",
        r#"<div class="byline">By Jane Doe · March 5, 2021 · Updated March 7, 2021</div>"#,
    );
    assert_eq!(byline.published_at, utc(2021, 3, 5, 0, 0));
    assert_eq!(byline.updated_at, utc(2021, 3, 7, 0, 0));
}

#[test]
fn update_markers_in_the_body_give_the_update_date_not_the_publication() {
    let wordpress = run(
        "",
        r#"<time class="updated" datetime="2021-03-07T10:00:00Z">March 7</time>
           <time class="entry-date published" datetime="2021-03-05T10:00:00Z">March 5</time>"#,
    );
    assert_eq!(wordpress.published_at, utc(2021, 3, 5, 10, 0));
    assert_eq!(wordpress.updated_at, utc(2021, 3, 7, 10, 0));
    let microdata = run(
        r#"<meta property="article:published_time" content="2021-03-05T10:00:00Z">"#,
        r#"<span itemprop="dateModified">March 7, 2021</span>"#,
    );
    assert_eq!(microdata.updated_at, utc(2021, 3, 7, 0, 0));
}

#[test]
fn the_pages_meta_date_wins_over_a_nested_json_ld_date() {
    let a = run(
        r#"<meta property="article:published_time" content="2021-03-05T10:00:00Z">
           <script type="application/ld+json">{"@type":"NewsArticle","headline":"H",
           "video":{"@type":"VideoObject","uploadDate":"2019-06-01T08:00:00Z"}}</script>"#,
        "",
    );
    assert_eq!(a.published_at, utc(2021, 3, 5, 10, 0));
}

#[test]
fn a_byline_date_does_not_leave_its_month_as_an_author() {
    let a = run("", "<p class=\"byline\">By Jane Doe, March 5, 2021</p>");
    assert_eq!(a.authors, ["Jane Doe"]);
}

#[test]
fn a_time_in_a_sidebar_or_comment_does_not_date_the_article() {
    let sidebar = extract(
        &format!(
            r#"<html><body><aside><h3>Most read</h3><time datetime="2020-11-02">Nov 2</time></aside>
               <article><h1>Council approves the harbour plan</h1>
               <time datetime="2021-03-05T10:00:00Z">March 5</time>{BODY}</article></body></html>"#
        ),
        None,
        &FeedHints::default(),
    );
    assert_eq!(sidebar.published_at, utc(2021, 3, 5, 10, 0));
    let comment = run(
        "",
        r#"<p class="byline">By Jane Doe, March 5, 2021</p>
           <div class="comments"><time datetime="2021-04-20T08:00:00Z">April 20</time></div>"#,
    );
    assert_eq!(comment.published_at, utc(2021, 3, 5, 0, 0));
}

#[test]
fn a_date_box_whose_class_runs_words_together_is_read() {
    let a = extract(
        &format!(
            r#"<html><body><div class="post"><div class="postmetadata">March 5, 2021 in News</div>
               {BODY}</div></body></html>"#
        ),
        None,
        &FeedHints::default(),
    );
    assert_eq!(a.published_at, utc(2021, 3, 5, 0, 0));
}

#[test]
fn a_page_that_only_says_when_it_changed_is_dated_by_that() {
    let a = run(
        r#"<meta property="og:updated_time" content="2021-03-08T12:00:00+01:00">"#,
        "",
    );
    assert_eq!(a.published_at, utc(2021, 3, 8, 11, 0));
    assert_eq!(a.updated_at, utc(2021, 3, 8, 11, 0));
}

#[test]
fn numeric_dates_follow_the_language_the_text_is_written_in() {
    let a = extract(
        "<html><body><article><h1>Stadtrat beschließt den Hafenplan</h1>\
         <p class=\"datum\">05/03/2021</p>\
         <p>Der Stadtrat hat am Donnerstag nach langer Debatte den umstrittenen Plan für den \
         alten Hafen beschlossen, obwohl die Anwohner noch einmal gegen die neue Straße protestiert \
         hatten und die Opposition eine weitere Anhörung verlangte.</p></article></body></html>",
        None,
        &FeedHints::default(),
    );
    assert_eq!(a.language.as_deref(), Some("de"));
    assert_eq!(
        a.published_at,
        utc(2021, 3, 5, 0, 0),
        "day first, as German writes it"
    );
}

#[test]
fn a_wordpress_time_marked_published_and_updated_is_the_publication() {
    let a = run(
        "",
        r#"<time class="entry-date published updated" datetime="2021-03-05T10:00:00Z">March 5</time>"#,
    );
    assert_eq!(a.published_at, utc(2021, 3, 5, 10, 0));
}
