//! Telling article pages from PDFs, images, audio and video before (or instead of)
//! downloading them.
//!
//! Three signals, cheapest first: the link's file extension (no request at all), the
//! response's Content-Type (headers only, the body is never read), and for vague types
//! (`application/octet-stream`, `text/plain`, none) the first bytes of the body.

use url::Url;

/// What a Content-Type says about a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Html,
    /// Not a page: PDF, image, audio, video, archive, office document…
    NotHtml,
    /// Says nothing useful (missing, octet-stream, text/plain): sniff the body.
    Unknown,
}

/// The media type of a link whose extension marks it as a document that is not a page.
pub fn non_html_by_extension(url: &Url) -> Option<&'static str> {
    let last = url.path_segments()?.next_back()?;
    let (_, extension) = last.rsplit_once('.')?;
    let extension = extension.to_ascii_lowercase();
    let media_type = match extension.as_str() {
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "avif" => "image/avif",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "mkv" => "video/x-matroska",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" | "xlsx" => "application/vnd.ms-excel",
        "ppt" | "pptx" => "application/vnd.ms-powerpoint",
        "epub" => "application/epub+zip",
        "exe" | "dmg" | "apk" | "iso" => "application/octet-stream",
        _ => return None,
    };
    Some(media_type)
}

/// The media type alone, lowercased, without parameters.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Classifies a Content-Type header value for an article link.
pub fn classify_content_type(content_type: Option<&str>) -> ContentKind {
    let Some(content_type) = content_type else {
        return ContentKind::Unknown;
    };
    let essence = essence(content_type);
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => ContentKind::Html,
        ""
        | "application/octet-stream"
        | "text/plain"
        | "binary/octet-stream"
        | "application/unknown" => ContentKind::Unknown,
        // Some sites serve article pages as XML; let the body decide.
        "text/xml" | "application/xml" => ContentKind::Unknown,
        _ => {
            if essence.starts_with("image/")
                || essence.starts_with("audio/")
                || essence.starts_with("video/")
                || essence.starts_with("font/")
                || essence.starts_with("application/")
                || essence.starts_with("model/")
            {
                ContentKind::NotHtml
            } else {
                ContentKind::Unknown
            }
        }
    }
}

/// The media type of a body recognised by its magic bytes as a document that is not a
/// page; `None` for text (HTML or anything else readable).
pub fn sniff_binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"ID3", "audio/mpeg"),
        (b"OggS", "audio/ogg"),
        (b"fLaC", "audio/flac"),
        (b"\x1A\x45\xDF\xA3", "video/webm"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1F\x8B", "application/gzip"),
        (b"\x7FELF", "application/octet-stream"),
        (b"MZ", "application/octet-stream"),
    ];
    for (magic, media_type) in MAGIC {
        if bytes.starts_with(magic) {
            return Some(media_type);
        }
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" {
        return Some(match &bytes[8..12] {
            b"WEBP" => "image/webp",
            b"WAVE" => "audio/wav",
            b"AVI " => "video/x-msvideo",
            _ => "application/octet-stream",
        });
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Some("video/mp4");
    }
    // Text has no NUL bytes in its first kilobyte; binary formats almost always do.
    let head = &bytes[..bytes.len().min(1024)];
    if head.contains(&0) && !looks_like_utf16(head) {
        return Some("application/octet-stream");
    }
    None
}

fn looks_like_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF])
}

/// True when decoded text looks like an HTML page rather than a feed.
pub fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("<!doctype html")
        || head.contains("<html")
        || head.contains("<head")
        || head.contains("<body")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_table() {
        let cases = [
            ("https://a.example/report.PDF", Some("application/pdf")),
            ("https://a.example/img/photo.jpg?w=300", Some("image/jpeg")),
            ("https://a.example/pod/episode.mp3", Some("audio/mpeg")),
            ("https://a.example/v/clip.mp4", Some("video/mp4")),
            ("https://a.example/2024/05/story.html", None),
            ("https://a.example/2024/05/story", None),
            ("https://a.example/", None),
            ("https://a.example/news.php?file=x.pdf", None),
        ];
        for (url, expected) in cases {
            assert_eq!(
                non_html_by_extension(&Url::parse(url).unwrap()),
                expected,
                "{url}"
            );
        }
    }

    #[test]
    fn content_type_table() {
        let cases = [
            (Some("text/html; charset=utf-8"), ContentKind::Html),
            (Some("application/xhtml+xml"), ContentKind::Html),
            (Some("application/pdf"), ContentKind::NotHtml),
            (Some("image/png"), ContentKind::NotHtml),
            (Some("audio/mpeg"), ContentKind::NotHtml),
            (Some("video/mp4"), ContentKind::NotHtml),
            (Some("application/octet-stream"), ContentKind::Unknown),
            (Some("text/plain"), ContentKind::Unknown),
            (None, ContentKind::Unknown),
        ];
        for (content_type, expected) in cases {
            assert_eq!(
                classify_content_type(content_type),
                expected,
                "{content_type:?}"
            );
        }
    }

    #[test]
    fn magic_bytes_table() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (b"%PDF-1.7\n%\xE2\xE3", Some("application/pdf")),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some("image/png")),
            (b"\0\0\0\x20ftypisom\0\0", Some("video/mp4")),
            (b"ID3\x04\0\0\0\0", Some("audio/mpeg")),
            (b"<!doctype html><title>x</title>", None),
            ("<p>Привет</p>".as_bytes(), None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff_binary(bytes), expected, "{bytes:?}");
        }
    }
}
