//! The three page templates (broadsheet, portal div-soup, wire/blog) and the boilerplate
//! they wrap an article in: navigation, ad slots, share buttons, cookie banner,
//! newsletter box, "most read" lists, footers and inline script state.

use std::fmt::Write as _;

use super::prose::*;
use super::vocab::*;
use super::{ArticleMeta, Rng};

/// `text` with `&`, `<`, `>` and `"` escaped for HTML, in one pass (four `replace`s, one
/// allocation each, were a fifth of the bench server's CPU).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    // A byte scan: the four specials are ASCII, so they never occur inside a multi-byte
    // character, and a `char` pattern here was a seventh of the server's page generation.
    while let Some(at) = rest
        .bytes()
        .position(|b| matches!(b, b'&' | b'<' | b'>' | b'"'))
    {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

pub(super) fn nav(rng: &mut Rng, class: &str, links: (usize, usize)) -> String {
    let links = rng.range(links.0, links.1);
    let mut out = format!("<nav class=\"{class}\"><ul>");
    for i in 0..links {
        let section = SECTIONS[(i + rng.below(3)) % SECTIONS.len()];
        let _ = write!(
            out,
            "<li class=\"{class}__item\"><a href=\"/section/{}/{i}\">{section}</a></li>",
            section.to_ascii_lowercase()
        );
    }
    out.push_str("</ul></nav>");
    out
}

pub(super) fn share_buttons() -> &'static str {
    "<div class=\"share-tools\" aria-label=\"Share this article\"><span>Share</span>\
     <a class=\"share share--facebook\" href=\"#\">Facebook</a><a class=\"share share--x\" href=\"#\">X</a>\
     <a class=\"share share--mail\" href=\"#\">Email</a><a class=\"share share--copy\" href=\"#\">Copy link</a>\
     <button class=\"share share--print\">Print</button></div>"
}

pub(super) fn newsletter_box(site: &str) -> String {
    format!(
        "<aside class=\"newsletter-signup\"><h3>Get the morning briefing</h3><p>Sign up for the {site} \
         newsletter: the day's most important stories in your inbox before breakfast.</p>\
         <form action=\"/newsletter\" method=\"post\"><input type=\"email\" name=\"email\" placeholder=\"Your email address\">\
         <button type=\"submit\">Subscribe</button></form><p class=\"small\">You can unsubscribe at any time. \
         Read our privacy policy.</p></aside>"
    )
}

pub(super) fn cookie_banner() -> &'static str {
    "<div id=\"cookie-consent\" class=\"consent-banner\" role=\"dialog\"><p>We use cookies and similar \
     technologies to personalise content and ads, to provide social media features and to analyse our \
     traffic. By clicking Accept you agree to this.</p><button class=\"accept\">Accept all</button>\
     <button class=\"reject\">Reject</button><a href=\"/privacy\">Manage settings</a></div>"
}

pub(super) fn ad_slot(rng: &mut Rng, name: &str) -> String {
    format!(
        "<div class=\"ad-slot ad-slot--{name}\" data-ad-unit=\"/{}/news/{name}\"><span class=\"ad-label\">Advertisement</span>\
         <script>window.adq=window.adq||[];adq.push({{slot:'{name}',sizes:[[300,250],[728,90]],pos:{}}});</script></div>",
        rng.range(1000, 9999),
        rng.below(9)
    )
}

pub(super) fn most_read(rng: &mut Rng, items: (usize, usize)) -> String {
    let items = rng.range(items.0, items.1);
    let mut out = String::from("<aside class=\"most-read\"><h2>Most read</h2><ol>");
    for i in 0..items {
        let _ = write!(
            out,
            "<li><a href=\"/story/{}\">{}</a></li>",
            rng.range(10_000, 99_999) + i,
            escape(&teaser_headline(rng))
        );
    }
    out.push_str("</ol></aside>");
    out
}

pub(super) fn footer(rng: &mut Rng, site: &str, links: (usize, usize)) -> String {
    let links = rng.range(links.0, links.1);
    let mut out = String::from("<footer class=\"site-footer\"><div class=\"footer-links\">");
    for i in 0..links {
        let _ = write!(
            out,
            "<a href=\"/info/{i}\">{}</a> ",
            rng.pick(&[
                "About us",
                "Contact",
                "Careers",
                "Advertise",
                "Terms of use",
                "Privacy",
                "Corrections",
                "Archive",
                "RSS",
                "Accessibility",
                "Help",
                "Subscriptions"
            ])
        );
    }
    let _ = write!(
        out,
        "</div><p>&copy; 2026 {site}. All rights reserved. No part of this site may be reproduced without permission.</p></footer>"
    );
    out
}

/// Teasers of the inline state blob drawn from: prepared once, so that a page's blob (often
/// half its bytes) costs copies rather than formatting. Scripts are not article text, so
/// pages sharing teasers there are no nearer to one another.
const TEASER_POOL: usize = 4096;

/// The capacity a page starts with: most pages are 35–80 KB.
const PAGE_CAPACITY: usize = 96 * 1024;

fn teaser_pool() -> &'static [String] {
    static POOL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let mut rng = Rng::new(0x7465_6173_6572); // "teaser"
        (0..TEASER_POOL)
            .map(|_| {
                format!(
                    "{{\"id\":{},\"headline\":\"{}\",\"kicker\":\"{}\",\"img\":\"/img/{}x{}/{}.jpg\",\"premium\":{}}}",
                    rng.next_u64() % 10_000_000,
                    teaser_headline(&mut rng),
                    rng.pick(SECTIONS),
                    rng.range(200, 1600),
                    rng.range(100, 900),
                    rng.next_u64() % 1_000_000,
                    rng.chance(20)
                )
            })
            .collect()
    })
}

/// Inline script state of the kind real sites embed (hydration data, teaser lists),
/// appended to `out` until `out` is `bytes` long.
pub(super) fn push_state_blob(out: &mut String, rng: &mut Rng, bytes: usize) {
    let pool = teaser_pool();
    out.reserve(bytes.saturating_sub(out.len()) + 256);
    out.push_str("<script>window.__PRELOADED_STATE__={\"teasers\":[");
    let mut first = true;
    while out.len() < bytes {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&pool[rng.below(pool.len())]);
    }
    out.push_str("]};</script>");
}

pub(super) fn head(meta: &ArticleMeta, site: &str, url: &str, extra: &str) -> String {
    // Room for most of the page, which the templates append to this string: growing it
    // from the head's size copied the page about five times.
    let mut out = String::with_capacity(PAGE_CAPACITY);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} | {site}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{summary}\"><link rel=\"canonical\" href=\"{url}\">\
         <meta property=\"og:type\" content=\"article\"><meta property=\"og:title\" content=\"{title}\">\
         <meta property=\"og:site_name\" content=\"{site}\"><meta property=\"og:url\" content=\"{url}\">\
         <link rel=\"stylesheet\" href=\"/static/main.css\"><style>.ad-slot{{min-height:250px}}.consent-banner{{position:fixed;bottom:0}}</style>\
         {extra}</head>",
        title = escape(&meta.title),
        summary = escape(&meta.summary),
    );
    out
}

pub(super) fn broadsheet(
    rng: &mut Rng,
    meta: &ArticleMeta,
    site: &str,
    url: &str,
    paragraphs: &[String],
) -> String {
    let mut out = head(
        meta,
        site,
        url,
        &format!(
            "<meta property=\"article:published_time\" content=\"{}\"><meta name=\"author\" content=\"{}\">",
            meta.published.to_rfc3339(),
            meta.author
        ),
    );
    out.push_str("<body class=\"article-page\">");
    let _ = write!(
        out,
        "<header class=\"masthead\"><a class=\"logo\" href=\"/\">{site}</a>{}<div class=\"ticker\">Breaking: {}</div></header>",
        nav(rng, "primary-nav", (20, 50)),
        escape(&teaser_headline(rng))
    );
    out.push_str(&ad_slot(rng, "leaderboard"));
    let _ = write!(
        out,
        "<main><article class=\"story\"><p class=\"kicker\">{}</p><h1 class=\"headline\">{}</h1>\
         <p class=\"standfirst\">{}</p><div class=\"byline\">By <a rel=\"author\" href=\"/people/{}\">{}</a> \
         <time datetime=\"{}\">{}</time></div>",
        meta.section,
        escape(&meta.title),
        escape(&meta.summary),
        meta.author.to_ascii_lowercase().replace(' ', "-"),
        meta.author,
        meta.published.to_rfc3339(),
        meta.published.format("%e %B %Y, %H:%M")
    );
    let _ = write!(
        out,
        "<figure class=\"lead-image\"><img src=\"/img/{}.jpg\" alt=\"\"><figcaption>{} Photograph: {} / Agency</figcaption></figure>",
        rng.next_u64() % 1_000_000,
        escape(&teaser_headline(rng)),
        person(rng)
    );
    out.push_str(share_buttons());
    out.push_str("<div class=\"story-body\">");
    for (i, p) in paragraphs.iter().enumerate() {
        let _ = write!(out, "<p>{}</p>", escape(p));
        if i == 2 {
            let _ = write!(
                out,
                "<p class=\"related-inline\"><strong>Read more:</strong> <a href=\"/story/{}\">{}</a></p>",
                rng.range(1000, 99999),
                escape(&teaser_headline(rng))
            );
        }
        if i == 4 {
            out.push_str(&ad_slot(rng, "mpu"));
        }
        if i > 0 && i % 7 == 0 {
            let _ = write!(out, "<h2>{}</h2>", escape(&teaser_headline(rng)));
        }
    }
    out.push_str("</div>");
    out.push_str(share_buttons());
    out.push_str("</article>");
    out.push_str(&newsletter_box(site));
    out.push_str(&most_read(rng, (10, 10)));
    out.push_str("</main>");
    out.push_str(&footer(rng, site, (30, 80)));
    out.push_str(cookie_banner());
    out.push_str("<script src=\"/static/app.js\" async></script></body></html>");
    out
}

pub(super) fn portal(
    rng: &mut Rng,
    meta: &ArticleMeta,
    site: &str,
    url: &str,
    paragraphs: &[String],
) -> String {
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": meta.title,
        "datePublished": meta.published.to_rfc3339(),
        "author": [{"@type": "Person", "name": meta.author}],
        "publisher": {"@type": "Organization", "name": site},
        "mainEntityOfPage": url,
    });
    let mut out = head(
        meta,
        site,
        url,
        &format!("<script type=\"application/ld+json\">{ld}</script>"),
    );
    out.push_str("<body><div id=\"app\"><div class=\"container\"><div class=\"row header-row\"><div class=\"col-12\">");
    let _ = write!(out, "<div class=\"brand\">{site}</div>");
    out.push_str(&nav(rng, "menu", (30, 70)));
    out.push_str("</div></div>");
    out.push_str(&ad_slot(rng, "top"));
    out.push_str(
        "<div class=\"row\"><div class=\"col-8 main-col\"><div class=\"article-wrapper\">",
    );
    let _ = write!(
        out,
        "<div class=\"breadcrumbs\"><a href=\"/\">Home</a> &rsaquo; <a href=\"/{0}\">{0}</a></div>\
         <div class=\"title-block\"><h1>{1}</h1></div><div class=\"meta-line\"><span class=\"author-name\">{2}</span> \
         <span class=\"date\">{3}</span></div>",
        meta.section,
        escape(&meta.title),
        meta.author,
        meta.published.format("%d.%m.%Y %H:%M")
    );
    out.push_str("<div class=\"text-block\">");
    for (i, p) in paragraphs.iter().enumerate() {
        let _ = write!(out, "<div class=\"paragraph\"><p>{}</p></div>", escape(p));
        if i % 5 == 3 {
            out.push_str(&ad_slot(rng, "inread"));
        }
    }
    out.push_str("</div>");
    out.push_str(share_buttons());
    out.push_str("<div class=\"comments-teaser\"><h3>Comments (");
    let _ = write!(out, "{}", rng.range(0, 400));
    out.push_str(")</h3><p>Log in or register to join the discussion.</p></div></div>");
    out.push_str("<div class=\"related-grid\"><h2>Related stories</h2>");
    for _ in 0..rng.range(4, 10) {
        let topic_index = rng.below(TOPICS.len());
        let mut card_rng_text = teaser_headline(rng);
        card_rng_text.truncate(200);
        let _ = write!(
            out,
            "<div class=\"card\"><img src=\"/img/t/{}.jpg\"><a href=\"/story/{}\"><h4>{}</h4></a><p>{}</p></div>",
            rng.next_u64() % 100_000,
            rng.next_u64() % 100_000,
            escape(&card_rng_text),
            escape(&sentence(rng, &TOPICS[topic_index]))
        );
    }
    out.push_str("</div></div><div class=\"col-4 sidebar\">");
    out.push_str(&ad_slot(rng, "sidebar"));
    out.push_str(&most_read(rng, (5, 12)));
    out.push_str(&newsletter_box(site));
    out.push_str("</div></div>");
    out.push_str(&footer(rng, site, (20, 60)));
    out.push_str("</div></div>");
    out.push_str(cookie_banner());
    out.push_str("</body></html>");
    out
}

pub(super) fn wire(
    rng: &mut Rng,
    meta: &ArticleMeta,
    site: &str,
    url: &str,
    paragraphs: &[String],
) -> String {
    let mut out = head(meta, site, url, "");
    out.push_str("<body class=\"single-post\"><div id=\"page\"><div class=\"site-header\">");
    let _ = write!(out, "<p class=\"site-title\"><a href=\"/\">{site}</a></p>");
    out.push_str(&nav(rng, "main-navigation", (8, 20)));
    out.push_str(
        "</div><div id=\"content\" class=\"site-content\"><div id=\"primary\"><div class=\"post\">",
    );
    let _ = write!(
        out,
        "<h1 class=\"entry-title\">{}</h1><div class=\"entry-meta\">Posted on <span class=\"posted-on\">{}</span> \
         by <span class=\"vcard author\">{}</span></div><div class=\"entry-content\">",
        escape(&meta.title),
        meta.published.format("%B %e, %Y"),
        meta.author
    );
    let dateline = rng.pick(&["NORTHGATE", "EASTHOLM", "KINGSFORD", "MILLBROOK"]);
    for (i, p) in paragraphs.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, "<p>{dateline} (Wire) &mdash; {}</p>", escape(p));
        } else if i % 9 == 8 {
            let _ = write!(out, "<blockquote><p>{}</p></blockquote>", escape(p));
        } else {
            let _ = write!(out, "<p>{}</p>", escape(p));
        }
    }
    out.push_str("<p class=\"wire-credit\">(Reporting by ");
    out.push_str(&person(rng));
    out.push_str("; editing by ");
    out.push_str(&person(rng));
    out.push_str(")</p></div>");
    out.push_str(share_buttons());
    out.push_str("<div class=\"tags-links\">Tags: ");
    for _ in 0..rng.range(3, 8) {
        let _ = write!(
            out,
            "<a rel=\"tag\" href=\"/tag/{0}\">{0}</a> ",
            rng.pick(SECTIONS).to_ascii_lowercase()
        );
    }
    out.push_str("</div></div></div><div id=\"secondary\" class=\"widget-area\">");
    out.push_str("<section class=\"widget recent-posts\"><h2>Recent posts</h2><ul>");
    for _ in 0..rng.range(5, 15) {
        let _ = write!(
            out,
            "<li><a href=\"/p/{}\">{}</a></li>",
            rng.next_u64() % 100_000,
            escape(&teaser_headline(rng))
        );
    }
    out.push_str("</ul></section><section class=\"widget archives\"><h2>Archives</h2><ul>");
    for month in 1..=12 {
        let _ = write!(
            out,
            "<li><a href=\"/2025/{month:02}\">{month:02}/2025</a></li>"
        );
    }
    out.push_str("</ul></section>");
    out.push_str(&newsletter_box(site));
    out.push_str("</div></div>");
    out.push_str(&footer(rng, site, (8, 20)));
    out.push_str(cookie_banner());
    out.push_str("</div></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_the_four_html_specials_and_keeps_the_rest() {
        assert_eq!(
            escape("Tom & \"Jerry\" <b>é</b>"),
            "Tom &amp; &quot;Jerry&quot; &lt;b&gt;é&lt;/b&gt;"
        );
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn the_state_blob_reaches_its_size_and_is_one_script() {
        let mut blob = String::new();
        push_state_blob(&mut blob, &mut Rng::new(3), 40_000);
        assert!((40_000..41_000).contains(&blob.len()), "{}", blob.len());
        assert!(blob.starts_with("<script>") && blob.ends_with("]};</script>"));
        assert_eq!(blob.matches("<script").count(), 1);
    }
}
