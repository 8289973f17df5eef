//! Reading a config leniently: every syntax and type problem with its line, instead of
//! stopping at the first, and the line helpers the messages use.

use toml::Spanned;

/// Reports a problem at a byte span of the config text (or without a place).
pub(crate) type Report<'r> = dyn FnMut(Option<std::ops::Range<usize>>, String) + 'r;

/// 1-based line of byte offset `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// 1-based line of a key's value in config text: `section.key`, or `section[index].key`
/// for arrays of tables (`sink`, `feed`). For messages about values that carry no span.
pub fn value_line(text: &str, section: &str, index: Option<usize>, key: &str) -> Option<usize> {
    let (root, _) = toml::de::DeTable::parse_recoverable(text);
    let root = root.into_inner();
    let table = root.get(section)?;
    let table = match (table.get_ref(), index) {
        (toml::de::DeValue::Table(_), None) => table,
        (toml::de::DeValue::Array(array), Some(i)) => array.get(i)?,
        _ => return None,
    };
    let toml::de::DeValue::Table(table) = table.get_ref() else {
        return None;
    };
    table
        .get(key)
        .map(|value| line_of(text, value.span().start))
}

/// Byte offset where 1-based `line` starts in `text` (the end of the text past the last).
pub(crate) fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(at, _)| at + 1)
}

/// Most keys set aside in one table before giving up on it (bounds the retries).
const MAX_PROBLEMS_PER_TABLE: usize = 32;

/// Deserializes one value of the document; on a failure located on one key of a table,
/// reports it, drops that key and tries again, so every bad key of the table is reported.
/// Returns `None` when the value cannot be read at all (the problems are reported).
pub(crate) fn read_value<T: serde::de::DeserializeOwned>(
    mut value: Spanned<toml::de::DeValue<'_>>,
    report: &mut Report<'_>,
) -> Option<T> {
    let mut set_aside = 0;
    while set_aside < MAX_PROBLEMS_PER_TABLE {
        let error = match T::deserialize(toml::de::ValueDeserializer::from(value.clone())) {
            Ok(parsed) => return Some(parsed),
            Err(error) => error,
        };
        let at = error.span().map(|s| s.start);
        let on_a_key = |table: &toml::de::DeTable<'_>| {
            at.is_some_and(|at| {
                table
                    .iter()
                    .any(|(k, v)| k.span().contains(&at) || v.span().contains(&at))
            })
        };
        match (value.get_mut(), at) {
            (toml::de::DeValue::Table(table), Some(at)) if on_a_key(table) => {
                report(error.span(), error.message().trim().to_string());
                let entries = std::mem::replace(table, toml::map::Map::new());
                *table = entries
                    .into_iter()
                    .filter(|(k, v)| !(k.span().contains(&at) || v.span().contains(&at)))
                    .collect();
                set_aside += 1;
            }
            _ => {
                // A problem of the table as a whole (e.g. a missing key). After keys were
                // set aside it is most likely their consequence: already reported.
                if set_aside == 0 {
                    report(error.span(), error.message().trim().to_string());
                }
                return None;
            }
        }
    }
    None
}

/// Reads a section into `target`, leaving the default in place when it cannot be read.
pub(crate) fn read_section<T: serde::de::DeserializeOwned>(
    value: Spanned<toml::de::DeValue<'_>>,
    report: &mut Report<'_>,
    target: &mut T,
) {
    if let Some(parsed) = read_value(value, report) {
        *target = parsed;
    }
}

/// Reads an array of tables (`[[sink]]`, `[[feed]]`) element by element, keeping the
/// elements that can be read.
pub(crate) fn read_array<'t, T>(
    value: Spanned<toml::de::DeValue<'t>>,
    report: &mut Report<'_>,
    name: &str,
    mut read: impl FnMut(Spanned<toml::de::DeValue<'t>>, &mut Report<'_>) -> Option<T>,
) -> Vec<T> {
    let span = value.span();
    match value.into_inner() {
        toml::de::DeValue::Array(elements) => elements
            .into_iter()
            .filter_map(|element| read(element, report))
            .collect(),
        other => {
            report(
                Some(span),
                format!(
                    "`{name}` must be an array of tables ([[{name}]]), found {}",
                    other.type_str()
                ),
            );
            Vec::new()
        }
    }
}
