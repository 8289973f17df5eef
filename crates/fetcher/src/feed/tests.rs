//! Feed format table: one small named document per case feed-rs or the real web gets wrong.

use super::*;

fn base() -> Url {
    Url::parse("https://news.example.org/feeds/main.xml").unwrap()
}

fn parse(text: &str) -> ParsedFeed {
    parse_feed(text.as_bytes(), None, &base()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn rss_2_basic() {
    let feed = parse(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Main</title><link>https://news.example.org/</link><ttl>30</ttl>
        <item><title>One &amp; two</title><link>/a/1</link><guid>id-1</guid><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item></channel></rss>"#,
    );
    assert_eq!(feed.title.as_deref(), Some("Main"));
    assert_eq!(feed.ttl_hint, Some(Duration::from_secs(1800)));
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("One & two"));
    assert_eq!(
        entry.link.as_ref().map(Url::as_str),
        Some("https://news.example.org/a/1")
    );
    assert_eq!(entry.id.as_deref(), Some("id-1"));
    assert!(entry.published.is_some());
    assert_eq!(entry.updated, None, "an RSS item has no update date");
}

fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.entries
        .iter()
        .filter_map(|e| e.title.as_deref())
        .collect()
}

fn links(feed: &ParsedFeed) -> Vec<&str> {
    feed.entries
        .iter()
        .map(|e| e.link.as_ref().map_or("", Url::as_str))
        .collect()
}

#[test]
fn rss_090_netscape_namespace() {
    let feed = parse(
        r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
  <channel><title>Old Netscape</title><link>https://old.example/</link><description>d</description></channel>
  <item><title>First</title><link>https://old.example/1</link></item>
  <item><title>Second</title><link>https://old.example/2</link></item>
</rdf:RDF>"#,
    );
    assert_eq!(feed.title.as_deref(), Some("Old Netscape"));
    assert_eq!(titles(&feed), ["First", "Second"]);
}

#[test]
fn rss_091_092_093_094_and_odd_versions() {
    for version in ["0.91", "0.92", "0.93", "0.94", "2.0 ", "2.0.1", "", "none"] {
        let attribute = if version == "none" {
            String::new()
        } else {
            format!(" version=\"{version}\"")
        };
        let feed = parse(&format!(
            "<rss{attribute}><channel><title>V</title><link>https://v.example/</link><item><title>Item</title><link>https://v.example/1</link><description>d</description></item></channel></rss>"
        ));
        assert_eq!(titles(&feed), ["Item"], "version {version:?}");
        assert_eq!(links(&feed), ["https://v.example/1"], "version {version:?}");
    }
}

#[test]
fn rss_10_items_without_link_use_rdf_about() {
    let feed = parse(
        r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
  <channel rdf:about="https://rdf.example/"><title>RDF</title><link>https://rdf.example/</link><description>d</description>
    <dc:language>en_US</dc:language><dc:creator>Desk</dc:creator>
    <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency></channel>
  <item rdf:about="https://rdf.example/story/1"><title>No link</title><dc:date>2024-05-01T10:00:00+02:00</dc:date><dc:creator>Ann</dc:creator></item>
  <item rdf:about="https://rdf.example/story/2"><title>With link</title><link>https://rdf.example/2</link></item>
</rdf:RDF>"#,
    );
    assert_eq!(
        links(&feed),
        ["https://rdf.example/story/1", "https://rdf.example/2"]
    );
    assert_eq!(feed.ttl_hint, Some(Duration::from_secs(1800)));
    assert_eq!(feed.language.as_deref(), Some("en-US"));
    assert_eq!(feed.entries[0].authors, ["Ann"]);
    assert_eq!(
        feed.entries[0].published.map(|d| d.to_rfc3339()),
        Some("2024-05-01T08:00:00+00:00".into())
    );
}

#[test]
fn atom_03() {
    let feed = parse(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Atom zero three</title><tagline>Old tagline</tagline>
  <link rel="alternate" type="text/html" href="https://a03.example/"/>
  <modified>2004-05-01T10:00:00Z</modified>
  <entry>
    <title type="text/plain" mode="escaped">Entry &amp; more</title>
    <link rel="alternate" type="text/html" href="https://a03.example/1"/>
    <id>tag:a03.example,2004:1</id>
    <issued>2004-05-01T10:00:00Z</issued><modified>2004-05-02T10:00:00Z</modified>
    <content type="text/html" mode="escaped">&lt;p&gt;Body&lt;/p&gt;</content>
  </entry>
</feed>"#,
    );
    assert_eq!(feed.title.as_deref(), Some("Atom zero three"));
    assert_eq!(titles(&feed), ["Entry & more"]);
    assert_eq!(links(&feed), ["https://a03.example/1"]);
    let entry = &feed.entries[0];
    assert!(entry.published.is_some(), "issued -> published");
    assert!(entry.updated.is_some(), "modified -> updated");
    assert!(
        entry
            .content
            .as_deref()
            .is_some_and(|c| c.contains("<p>Body</p>")),
        "{:?}",
        entry.content
    );
}

#[test]
fn atom_10_with_xml_base_and_odd_text_types() {
    let feed = parse(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/blog/">
  <title type="">Atom one</title><id>urn:uuid:feed</id><updated>2024-05-01T10:00:00Z</updated>
  <link href="./"/>
  <entry xml:base="2024/">
    <title type="text/plain">Relative</title><id>urn:uuid:1</id><updated>2024-05-01T10:00:00Z</updated>
    <link rel="alternate" href="post.html"/><link rel="enclosure" type="image/jpeg" href="/img/p.jpg"/>
    <author><name>Jane</name></author><category term="world" label="World"/>
    <summary type="html">&lt;p&gt;Short &lt;b&gt;summary&lt;/b&gt;&lt;/p&gt;</summary>
  </entry>
</feed>"#,
    );
    assert_eq!(feed.title.as_deref(), Some("Atom one"));
    assert_eq!(titles(&feed), ["Relative"]);
    assert_eq!(links(&feed), ["https://atom.example/blog/2024/post.html"]);
    let entry = &feed.entries[0];
    assert_eq!(entry.authors, ["Jane"]);
    // The term, as feedparser's tags[i].term (the label is for display).
    assert_eq!(entry.categories, ["world"]);
    assert_eq!(entry.summary.as_deref(), Some("Short summary"));
    assert_eq!(
        entry.image.as_ref().map(Url::as_str),
        Some("https://atom.example/img/p.jpg")
    );
}

#[test]
fn json_feed_10_and_11() {
    for version in ["1", "1.1"] {
        let text = format!(
            r#"{{"version":"https://jsonfeed.org/version/{version}","title":"JSON","home_page_url":"https://j.example/",
            "items":[{{"id":"1","url":"https://j.example/1","title":"One","content_html":"<p>x</p>","date_published":"2024-05-01T10:00:00Z",
            "authors":[{{"name":"Ann"}}],"author":{{"name":"Ann"}},"tags":["a"]}},
            {{"id":"2","content_text":"no url","url":"/2"}}]}}"#
        );
        let feed = parse(&text);
        assert_eq!(feed.title.as_deref(), Some("JSON"), "{version}");
        assert_eq!(
            links(&feed),
            ["https://j.example/1", "https://news.example.org/2"],
            "{version}"
        );
        assert_eq!(feed.entries[0].authors, ["Ann"], "{version}");
        assert!(feed.entries[0].published.is_some(), "{version}");
    }
}

#[test]
fn json_feed_numeric_ids_item_images_and_authors_over_author() {
    // JSON Feed 1.1: an id given as a number is read as a string, `authors` supersedes
    // `author`, and an item's `image` (else `banner_image`) is its picture.
    let feed = parse(
        r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
        {"id":42,"url":"https://j.example/1","image":"/img/one.jpg",
         "author":{"name":"Legacy"},"authors":[{"name":"Ann"}]},
        {"id":"b","url":"https://j.example/2","banner_image":"https://cdn.example/two.png"}]}"#,
    );
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(feed.entries[0].id.as_deref(), Some("42"));
    assert_eq!(feed.entries[0].authors, ["Ann"]);
    assert_eq!(
        feed.entries[0].image.as_ref().map(Url::as_str),
        Some("https://news.example.org/img/one.jpg")
    );
    assert_eq!(
        feed.entries[1].image.as_ref().map(Url::as_str),
        Some("https://cdn.example/two.png")
    );
}

#[test]
fn entities_and_cdata_in_titles() {
    let feed = parse(
        r#"<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY company "ACME &amp; Sons">]>
<rss version="2.0"><channel><title>Caf&eacute; &amp; Bar&nbsp;News</title>
<item><title><![CDATA[Tom &amp; Jerry <b>bold</b>]]></title><link>https://e.example/1</link></item>
<item><title>AT&T and &company; &#8212; &#x41;&hellip;</title><link>https://e.example/2?a=1&b=2</link></item>
<item><title>Double &amp;amp; escaped</title><link>https://e.example/3</link></item>
</channel></rss>"#,
    );
    assert_eq!(feed.title.as_deref(), Some("Café & Bar News"));
    assert_eq!(
        titles(&feed),
        [
            "Tom & Jerry bold",
            "AT&T and ACME & Sons — A…",
            "Double & escaped"
        ]
    );
    assert_eq!(links(&feed)[1], "https://e.example/2?a=1&b=2");
}

#[test]
fn missing_links_with_permalink_guids() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>G</title>
<item><title>Permalink</title><guid>https://g.example/p/1</guid></item>
<item><title>Relative permalink</title><guid isPermaLink="true">/p/2</guid></item>
<item><title>Opaque</title><guid isPermaLink="false">abc-123</guid><description>Only text</description></item>
<item><title>No id at all</title><description>Body</description></item>
</channel></rss>"#,
    );
    assert_eq!(
        links(&feed),
        [
            "https://g.example/p/1",
            "https://news.example.org/p/2",
            "",
            ""
        ]
    );
    assert_eq!(feed.entries[2].id.as_deref(), Some("abc-123"));
    assert_eq!(feed.entries[2].summary.as_deref(), Some("Only text"));
    assert_eq!(feed.entries[3].id, None, "a missing id stays missing");
}

#[test]
fn channel_people_and_dates_feed_rs_ignores() {
    let feed = parse(
        r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>P</title>
<managingEditor>editor@p.example (Pat Editor)</managingEditor><language>en_GB</language>
<item><title>I</title><link>https://p.example/1</link><author>ann@p.example (Ann Writer)</author><pubDate>2024-05-01 10:00:00</pubDate></item>
</channel></rss>"#,
    );
    assert_eq!(feed.authors, ["Pat Editor"]);
    assert_eq!(feed.language.as_deref(), Some("en-GB"));
    assert_eq!(feed.entries[0].authors, ["Ann Writer"]);
    assert_eq!(
        feed.entries[0].published.map(|d| d.to_rfc3339()),
        Some("2024-05-01T10:00:00+00:00".into())
    );
}

#[test]
fn undeclared_latin1_bytes() {
    let text = "<rss version=\"2.0\"><channel><title>Caf\u{e9} \u{e9}t\u{e9}</title><item><title>No\u{eb}l \u{e0} Paris</title><link>https://l.example/1</link></item></channel></rss>";
    let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    let feed = parse_feed(&bytes, Some("text/xml"), &base()).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Café été"));
    assert_eq!(titles(&feed), ["Noël à Paris"]);
}

#[test]
fn userland_namespace() {
    let feed = parse(
        r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>U</title>
<item><title>Userland item</title><link>https://u.example/1</link></item></channel></rss>"#,
    );
    assert_eq!(titles(&feed), ["Userland item"]);
}

#[test]
fn html_page_is_not_a_feed_and_names_what_it_announces() {
    let html = r#"<!DOCTYPE html><html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml"></head><body>x</body></html>"#;
    let error = parse_feed(html.as_bytes(), Some("text/html"), &base()).unwrap_err();
    assert_eq!(error.kind(), "not_a_feed");
    assert!(
        error
            .to_string()
            .contains("https://news.example.org/atom.xml"),
        "{error}"
    );
}

#[test]
fn broken_feeds_are_errors_naming_the_url() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("   \n ", "empty"),
        (
            "{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [",
            "parse",
        ),
        ("\u{0}\u{1}binary", "parse"),
    ];
    for (text, kind) in cases {
        let error = parse_feed(text.as_bytes(), None, &base()).unwrap_err();
        assert_eq!(error.kind(), *kind, "{text:?}: {error}");
        assert!(error.to_string().starts_with(base().as_str()), "{error}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T &amp; co</title><item><title><![CDATA[A <b>b</b>]]></title><link>/a</link><guid>https://x.example/1</guid><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item><item><title>B&nbsp;c</title><description>&lt;p&gt;d&lt;/p&gt;</description></item></channel></rss>"#;

    fn outcome_is_sound(result: Result<ParsedFeed, FetchError>) -> Result<(), TestCaseError> {
        match result {
            Ok(feed) => {
                for entry in &feed.entries {
                    if let Some(link) = &entry.link {
                        prop_assert!(matches!(link.scheme(), "http" | "https" | "file"));
                    }
                }
            }
            Err(error) => prop_assert!(error.to_string().starts_with(base().as_str())),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            outcome_is_sound(parse_feed(&bytes, None, &base()))?;
        }

        #[test]
        fn damaged_feeds_never_panic(cut in 0..SAMPLE.len(), at in 0..SAMPLE.len(), junk in "[<>&;#a-z\"' /\\]\\[!-]{0,12}") {
            let mut damaged = SAMPLE.as_bytes()[..cut.max(at)].to_vec();
            damaged.splice(at.min(damaged.len())..at.min(damaged.len()), junk.bytes());
            outcome_is_sound(parse_feed(&damaged, Some("text/xml"), &base()))?;
        }

        #[test]
        fn repair_keeps_well_formed_text_unchanged_in_meaning(title in "[A-Za-z0-9 ]{1,30}") {
            let text = format!("<rss version=\"2.0\"><channel><title>{title}</title></channel></rss>");
            let (repaired, repairs) = repair(&text);
            prop_assert!(repairs.is_empty(), "{:?}", repairs);
            prop_assert_eq!(repaired, text);
        }
    }
}

#[test]
fn deeply_nested_markup_does_not_overflow_the_stack() {
    let depth = 50_000;
    let nested_xml = format!(
        "<rss version=\"2.0\"><channel><title>Deep</title><item><title>x</title><link>https://d.example/1</link><foo>{}{}</foo></item></channel></rss>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let result = parse_feed(nested_xml.as_bytes(), None, &base());
    if let Err(error) = &result {
        assert!(error.to_string().starts_with(base().as_str()), "{error}");
    }
    let nested_html = format!(
        "<rss version=\"2.0\"><channel><title>Deep</title><item><title>x</title><link>https://d.example/1</link><description>{}deep{}</description></item></channel></rss>",
        "&lt;div&gt;".repeat(depth),
        "&lt;/div&gt;".repeat(depth)
    );
    let feed = parse(&nested_html);
    assert_eq!(feed.entries[0].summary.as_deref(), Some("deep"));
}

#[test]
fn html_to_text_table() {
    let cases = [
        ("plain &amp; simple", "plain & simple"),
        ("<p>One</p><p>Two <b>bold</b></p>", "One\nTwo bold"),
        ("a < b and c > d", "a < b and c > d"),
        ("<script>var x = '<p>';</script>Visible", "Visible"),
        ("<!-- hidden -->Shown", "Shown"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("Line<br/>break", "Line\nbreak"),
        ("unclosed <b", "unclosed <b"),
    ];
    for (html, expected) in cases {
        assert_eq!(html_to_text(html), expected, "{html}");
    }
}

#[test]
fn entry_images_from_enclosures_and_media() {
    let feed = parse(
        r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>R</title>
<item><title>Enc</title><link>https://r.example/1</link><enclosure url="https://r.example/i.jpg" type="image/jpeg" length="1"/></item>
<item><title>Media</title><link>https://r.example/2</link><media:content url="https://r.example/m.jpg" medium="image" type="image/jpeg"/></item>
<item><title>Thumb</title><link>https://r.example/3</link><media:thumbnail url="/t.jpg"/></item>
<item><title>Audio</title><link>https://r.example/4</link><enclosure url="https://r.example/a.mp3" type="audio/mpeg" length="1"/></item>
<item><title>Untyped</title><link>https://r.example/5</link><media:content width="140" url="https://r.example/u.JPG?width=140"/></item>
<item><title>Untyped audio</title><link>https://r.example/6</link><enclosure url="https://r.example/b.mp3" type=""/></item>
</channel></rss>"#,
    );
    let images: Vec<Option<&str>> = feed
        .entries
        .iter()
        .map(|e| e.image.as_ref().map(Url::as_str))
        .collect();
    assert_eq!(
        images,
        [
            Some("https://r.example/i.jpg"),
            Some("https://r.example/m.jpg"),
            Some("https://news.example.org/t.jpg"),
            None,
            // Media RSS makes type and medium optional: the extension tells.
            Some("https://r.example/u.JPG?width=140"),
            None
        ]
    );
}

#[test]
fn rss_10_relative_rdf_about_ids_are_resolved_and_the_channel_gives_the_feed_id() {
    let feed = parse(
        r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="/feeds/main.rdf"><title>RDF</title><link>/</link><description>d</description></channel>
  <item rdf:about="story/1"><title>Relative</title></item>
  <item rdf:about="urn:uuid:0f1e2d3c-0000-4000-8000-000000000002"><title>URN</title><link>/2</link></item>
  <item rdf:about="https://other.example/3"><title>Absolute</title></item>
</rdf:RDF>"#,
    );
    assert_eq!(
        feed.id.as_deref(),
        Some("https://news.example.org/feeds/main.rdf")
    );
    let ids: Vec<Option<&str>> = feed.entries.iter().map(|e| e.id.as_deref()).collect();
    assert_eq!(
        ids,
        [
            Some("https://news.example.org/feeds/story/1"),
            Some("urn:uuid:0f1e2d3c-0000-4000-8000-000000000002"),
            Some("https://other.example/3"),
        ]
    );
    assert_eq!(
        links(&feed),
        [
            "https://news.example.org/feeds/story/1",
            "https://news.example.org/2",
            "https://other.example/3"
        ]
    );
}

#[test]
fn a_feed_id_of_its_own_is_kept_over_the_channel_rdf_about() {
    let feed = parse(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:news.example.org,2024:feed</id><title>A</title>
        <entry><id>tag:news.example.org,2024:1</id><title>One</title><link href="/1"/></entry></feed>"#,
    );
    assert_eq!(feed.id.as_deref(), Some("tag:news.example.org,2024:feed"));
    assert_eq!(
        feed.entries[0].id.as_deref(),
        Some("tag:news.example.org,2024:1")
    );
}

#[test]
fn entry_without_link_or_guid_keeps_what_a_record_needs() {
    let document = r#"<rss version="2.0"><channel><title>Notes</title>
        <item><title>Notice</title><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate><description>&lt;p&gt;Office closed.&lt;/p&gt;</description></item>
        <item><title>Other notice</title><description>Office open.</description></item>
        </channel></rss>"#;
    let feed = parse(document);
    let entry = &feed.entries[0];
    assert_eq!((entry.link.as_ref(), entry.id.as_deref()), (None, None));
    assert_eq!(entry.summary.as_deref(), Some("Office closed."));
    let ids: Vec<Option<String>> = feed.entries.iter().map(crate::synthetic_entry_id).collect();
    assert!(
        ids[0]
            .as_deref()
            .is_some_and(|id| id.starts_with("urn:newswire:")),
        "{ids:?}"
    );
    assert_ne!(ids[0], ids[1]);
    let polled_again: Vec<Option<String>> = parse(document)
        .entries
        .iter()
        .map(crate::synthetic_entry_id)
        .collect();
    assert_eq!(ids, polled_again, "stable across polls");
}

#[test]
fn unclosed_html_elements_in_a_description_do_not_swallow_the_next_items() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>R</title>
<item><title>One</title><link>https://r.example/1</link><description>line one<br>line two<p>para</description></item>
<item><title>Two</title><link>https://r.example/2</link><description>ok</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><p>Pic <img src="a.jpg"> here</p></br></content:encoded></item>
<item><title>Three</title><link>https://r.example/3</link></item>
</channel></rss>"#,
    );
    assert_eq!(titles(&feed), ["One", "Two", "Three"]);
    let summary = feed.entries[0].summary.as_deref().unwrap_or_default();
    assert!(
        summary.contains("line one") && summary.contains("para"),
        "{summary}"
    );
    let content = feed.entries[1].content.as_deref().unwrap_or_default();
    assert!(
        content.contains("here") && !content.contains("content:encoded"),
        "{content}"
    );
}

#[test]
fn an_item_left_unclosed_ends_where_the_next_begins() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>R</title>
<item><title>A</title><link>https://r.example/a</link>
<item><title>B</title><link>https://r.example/b</link></item>
<item><title>C</title><link>https://r.example/c</link></item>
</channel></rss>"#,
    );
    assert_eq!(titles(&feed), ["A", "B", "C"]);
    assert_eq!(
        links(&feed),
        [
            "https://r.example/a",
            "https://r.example/b",
            "https://r.example/c"
        ]
    );
    assert!(
        feed.warnings.iter().any(|w| w.contains("not closed")),
        "{:?}",
        feed.warnings
    );
}

#[test]
fn an_rss_root_in_a_foreign_default_namespace_is_still_read() {
    for namespace in [
        "http://www.w3.org/1999/xhtml",
        "http://example.org/whatever",
    ] {
        let feed = parse(&format!(
            r#"<rss version="2.0" xmlns="{namespace}"><channel><title>X</title>
<item><title>Only</title><link>https://r.example/1</link></item></channel></rss>"#
        ));
        assert_eq!(feed.title.as_deref(), Some("X"), "{namespace}");
        assert_eq!(titles(&feed), ["Only"], "{namespace}");
    }
}

#[test]
fn atom_text_declared_plain_is_not_read_as_markup() {
    let feed = parse(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title type="text">Why Vec&lt;T&gt; beats LinkedList&lt;T&gt;</title><id>urn:1</id>
<link href="https://a.example/1"/><summary type="text">x&amp;lt;y</summary></entry>
<entry><title type="html">Bold &lt;b&gt;move&lt;/b&gt;</title><id>urn:2</id><link href="https://a.example/2"/></entry>
</feed>"#,
    );
    assert_eq!(
        titles(&feed),
        ["Why Vec<T> beats LinkedList<T>", "Bold move"]
    );
    assert_eq!(feed.entries[0].summary.as_deref(), Some("x&lt;y"));
}

#[test]
fn windows_1252_numeric_references_are_the_characters_they_stand_for() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>R</title>
<item><title>2010 &#150; 2020 &#147;quoted&#148; it&#146;s</title><link>https://r.example/1</link>
<description>&lt;p&gt;caf&amp;#233; &amp;#150; ok&lt;/p&gt;</description></item></channel></rss>"#,
    );
    assert_eq!(titles(&feed), ["2010 – 2020 “quoted” it’s"]);
    assert_eq!(feed.entries[0].summary.as_deref(), Some("café – ok"));
}

#[test]
fn table_cells_and_definition_lists_keep_their_words_apart() {
    let text = crate::feed::html_to_text(
        "<table><tr><td>Team</td><td>Score</td></tr></table><dl><dt>Term</dt><dd>Def</dd></dl>Text<hr>More",
    );
    assert_eq!(text, "Team Score\nTerm\nDef\nText\nMore");
}

#[test]
fn atom_entries_without_an_author_have_the_feeds() {
    let feed = parse(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><author><name>Desk</name></author>
<entry><title>Own</title><id>urn:1</id><link href="https://a.example/1"/><author><name>Ann</name></author></entry>
<entry><title>Inherits</title><id>urn:2</id><link href="https://a.example/2"/></entry>
</feed>"#,
    );
    assert_eq!(feed.entries[0].authors, ["Ann"]);
    assert_eq!(feed.entries[1].authors, ["Desk"]);
    // RSS has no such rule: a channel's managing editor is not every item's author.
    let rss = parse(
        r#"<rss version="2.0"><channel><title>R</title><managingEditor>ed@r.example (Ed)</managingEditor>
<item><title>One</title><link>https://r.example/1</link></item></channel></rss>"#,
    );
    assert!(
        rss.entries[0].authors.is_empty(),
        "{:?}",
        rss.entries[0].authors
    );
}

#[test]
fn utf16_without_a_byte_order_mark_is_told_by_its_first_character() {
    let text = r#"<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><title>Zürich</title>
<item><title>Straße</title><link>https://r.example/1</link></item></channel></rss>"#;
    let little: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for bytes in [little, big] {
        let feed = parse_feed(&bytes, None, &base()).expect("a UTF-16 feed");
        assert_eq!(feed.title.as_deref(), Some("Zürich"));
        assert_eq!(titles(&feed), ["Straße"]);
    }
}

#[test]
fn a_less_than_sign_that_opens_no_markup_is_text() {
    let feed = parse(
        "<rss version=\"2.0\"><channel><title>R</title>\
<item><title>Profits < forecast, shares <3% down</title><link>https://r.example/1</link></item>\
<item><title><![CDATA[Kept <b>as</b> markup]]></title><link>https://r.example/2</link></item>\
<item><title>Bell\u{7} rings</title><link>https://r.example/3</link></item></channel></rss>",
    );
    assert_eq!(
        titles(&feed),
        [
            "Profits < forecast, shares <3% down",
            "Kept as markup",
            "Bell rings"
        ]
    );
}

#[test]
fn a_stray_void_end_tag_in_a_field_closes_nothing() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>R</title>
<item><title>One</title><link>https://r.example/1</link><description>a<br>b</br> c</description></item>
<item><title>Two</title><link>https://r.example/2</link></item>
</channel></rss>"#,
    );
    assert_eq!(titles(&feed), ["One", "Two"]);
    assert_eq!(links(&feed), ["https://r.example/1", "https://r.example/2"]);
    let summary = feed.entries[0].summary.as_deref().unwrap_or_default();
    assert!(summary.contains('a') && summary.contains('c'), "{summary}");
    assert!(
        feed.warnings.iter().all(|w| !w.contains("not closed")),
        "{:?}",
        feed.warnings
    );
}

#[test]
fn atom_elements_inside_an_rss_feed_are_read() {
    let feed = parse(
        r#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>R</title>
<atom:link href="https://r.example/feed.xml" rel="self"/>
<item><title>One</title><atom:link href="https://r.example/1" rel="alternate"/>
<atom:author><atom:name>Ann Atom</atom:name></atom:author></item></channel></rss>"#,
    );
    assert_eq!(links(&feed), ["https://r.example/1"]);
    assert_eq!(feed.entries[0].authors, ["Ann Atom"]);
}

#[test]
fn an_xhtml_element_named_like_its_field_does_not_end_it() {
    let feed = parse(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>One</title><id>urn:1</id><link href="https://a.example/1"/>
<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><details><summary>More</summary>Hidden text</details></div></summary></entry>
<entry><title>Two</title><id>urn:2</id><link href="https://a.example/2"/></entry></feed>"#,
    );
    assert_eq!(titles(&feed), ["One", "Two"]);
    let summary = feed.entries[0].summary.as_deref().unwrap_or_default();
    assert!(summary.contains("Hidden text"), "{summary}");
}

#[test]
fn a_late_end_tag_after_an_unclosed_item_loses_nothing() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>R</title>
<item><title>A</title><link>https://r.example/a</link>
<item><title>B</title><link>https://r.example/b</link></item></item>
<item><title>C</title><link>https://r.example/c</link><ext><item>not an item</item></ext></item>
<item><title>D</title><link>https://r.example/d</link></item>
</channel></rss>"#,
    );
    assert_eq!(titles(&feed), ["A", "B", "C", "D"]);
}
