//! Free text from outside (descriptions, notes, names): bounded in length and free of control
//! characters. A control character is never useful in a product name or a note, and some are
//! harmful: NUL is refused by PostgreSQL, and ESC or GS bytes are commands to a receipt printer
//! (`ESC p` opens the drawer, `GS V` cuts the paper).

use crate::error::Invalid;

/// Longest prefix of an offending value that an error quotes back: a refusal must not echo
/// megabytes to the client and the log.
pub const QUOTED: usize = 40;

/// Checks a text for length (in characters) and control characters.
pub fn check(what: &'static str, value: &str, max: usize) -> Result<(), Invalid> {
    if value.chars().nth(max).is_some() {
        return Err(Invalid::TooLong { what, value: value.into(), max });
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::BadCharacters {
            what,
            value: value.into(),
            reason: "control characters (such as NUL, ESC or a line break) are not allowed",
        });
    }
    Ok(())
}

/// Like [`check`], and refuses a text that is empty or only blanks.
pub fn check_required(what: &'static str, value: &str, max: usize) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(Invalid::Empty { what });
    }
    check(what, value, max)
}

/// At most [`QUOTED`] characters of `value`, with control characters shown escaped and an
/// ellipsis when cut: what an error message may repeat of a value it refuses.
pub fn quote(value: &str) -> String {
    let mut quoted: String = value.chars().take(QUOTED).flat_map(char::escape_debug).collect();
    if value.chars().nth(QUOTED).is_some() {
        quoted.push('…');
    }
    quoted
}

/// At most `max` characters of a message, cut with an ellipsis: for error messages built by
/// other libraries (serde's quote whole values).
pub fn truncate(message: &str, max: usize) -> String {
    match message.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_owned(),
    }
}

/// At most `max` characters of a message, with control characters shown escaped (`\0`,
/// `\u{1b}`): what may be stored or logged of a message that quotes what a client sent
/// (serde's errors quote an unknown member's name or enum value whole, NUL included, and
/// PostgreSQL refuses NUL in text).
pub fn printable(message: &str, max: usize) -> String {
    if !message.chars().any(char::is_control) {
        return truncate(message, max);
    }
    let escaped: String = message
        .chars()
        .flat_map(|c| {
            let shown: Vec<char> = if c.is_control() { c.escape_debug().collect() } else { vec![c] };
            shown
        })
        .collect();
    truncate(&escaped, max)
}

/// Text as search compares it: lower case, accents and other marks taken off every letter
/// (`Épicerie` → `epicerie`, `Œufs` → `oeufs`, `Straße` → `strasse`).
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
        match c {
            'œ' => folded.push_str("oe"),
            'æ' => folded.push_str("ae"),
            'ß' => folded.push_str("ss"),
            'ø' => folded.push('o'),
            'ł' => folded.push('l'),
            'đ' => folded.push('d'),
            c => folded.push(c),
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_keeps_the_rest() {
        assert_eq!(printable("unknown variant `cash\u{0}`", 100), "unknown variant `cash\\0`");
        assert_eq!(printable("é\u{1b}p", 100), "é\\u{1b}p");
        assert_eq!(printable("plain text", 5), "plain…");
        assert!(!printable("\u{0}\u{7}\n", 100).chars().any(char::is_control));
    }

    #[test]
    fn control_characters_and_long_texts_are_refused() {
        assert!(check("note", "Café au lait, 2 × 250 g", 80).is_ok());
        for bad in ["a\0b", "\x1bp\x00\x19\u{fa}", "line\nbreak", "\u{9b}"] {
            assert!(matches!(check("note", bad, 80), Err(Invalid::BadCharacters { .. })), "{bad:?}");
        }
        assert!(matches!(check("note", &"é".repeat(81), 80), Err(Invalid::TooLong { .. })));
        assert!(check("note", &"é".repeat(80), 80).is_ok());
        assert!(matches!(check_required("name", "  ", 80), Err(Invalid::Empty { .. })));
    }

    #[test]
    fn errors_quote_a_short_prefix() {
        let long = "X".repeat(8 * 1024 * 1024);
        let message = check("SKU", &long, 32).unwrap_err().to_string();
        assert!(message.len() < 200, "{} bytes", message.len());
        assert_eq!(quote("a\0b"), "a\\0b");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
