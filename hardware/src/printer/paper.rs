//! ESC/POS bytes read back as a text "paper": the subset the till's layouts emit, decoded from
//! code page PC863, with markers for what is not text (`[B]`, `[/B]`, `[CUT]`, `[DRAWER pin 2]`,
//! `[QR …]`). No ESC/POS decoder exists among Rust crates; tests read receipts back with this
//! one, and a screen could preview a receipt with it. Also the other way: which characters
//! PC863 has, so a layout never sends one it lacks.

/// PC863 (Canadian French) from 0x80 to 0xFF; below, ASCII.
const PC863_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'Â', 'à', '¶', 'ç', 'ê', 'ë', 'è', 'ï', 'î', '‗', 'À', '§', 'É', 'È', 'Ê', 'ô', 'Ë',
    'Ï', 'û', 'ù', '¤', 'Ô', 'Ü', '¢', '£', 'Ù', 'Û', 'ƒ', '¦', '´', 'ó', 'ú', '¨', '¸', '³', '¯', 'Î', '⌐',
    '¬', '½', '¼', '¾', '«', '»', '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛',
    '┐', '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', '╨', '╤', '╥', '╙',
    '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', 'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ',
    'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²',
    '■', '\u{a0}',
];

/// A PC863 byte as text.
pub fn pc863(byte: u8) -> char {
    match byte {
        0x80..=0xFF => PC863_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Whether PC863 has this character (printable ASCII or one of its upper half).
pub fn in_pc863(c: char) -> bool {
    (' '..='~').contains(&c) || PC863_HIGH.contains(&c)
}

/// Text as PC863 can print it, one character for one: what it lacks becomes its nearest
/// look-alike (typographic quotes and dashes, which names copied from the web carry), or `?`.
/// One for one, so a line laid out here is as wide on paper.
pub fn to_pc863(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if in_pc863(c) => c,
            '‘' | '’' | '‚' | '′' => '\'',
            '“' | '”' | '„' | '″' => '"',
            '‐' | '‑' | '‒' | '–' | '—' | '−' => '-',
            '\u{2002}'..='\u{200a}' | '\u{202f}' => '\u{a0}',
            'ÿ' => 'y',
            'Œ' => 'O',
            'œ' => 'o',
            _ => '?',
        })
        .collect()
}

/// Renders ESC/POS bytes as a paper of text. A command it does not know is an error naming the
/// command and where it is, so a layout that starts emitting something new is noticed.
pub fn read(bytes: &[u8]) -> Result<String, String> {
    let mut out = String::new();
    let mut qr = String::new();
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied().ok_or_else(|| format!("the bytes end inside a command at {i}"));
    while i < bytes.len() {
        match bytes[i] {
            0x0A => {
                out.push('\n');
                i += 1;
            }
            // DLE EOT n: a status query, nothing on paper.
            0x10 if bytes.get(i + 1) == Some(&0x04) => i += 3,
            0x1B => {
                i += match at(i + 1)? {
                    b'@' => 2,
                    b't' | b'a' | b'!' | b'-' | b'G' | b'M' => 3,
                    b'E' => {
                        out.push_str(if at(i + 2)? == 1 { "[B]" } else { "[/B]" });
                        3
                    }
                    b'd' => {
                        out.push_str(&"\n".repeat(usize::from(at(i + 2)?)));
                        3
                    }
                    b'p' => {
                        out.push_str(&format!("[DRAWER pin {}]", if at(i + 2)? == 0 { 2 } else { 5 }));
                        5
                    }
                    other => return Err(format!("unknown ESC {other:#04x} at {i}")),
                };
            }
            0x1D => {
                i += match at(i + 1)? {
                    b'V' => {
                        out.push_str("[CUT]");
                        4
                    }
                    b'!' => 3,
                    b'(' if bytes.get(i + 2) == Some(&b'k') => {
                        let length = usize::from(at(i + 3)?) + 256 * usize::from(at(i + 4)?);
                        let (cn, function) = (at(i + 5)?, at(i + 6)?);
                        if cn == 49 && function == 80 {
                            let data = bytes.get(i + 8..i + 5 + length).ok_or("a QR code cut short")?;
                            qr = String::from_utf8_lossy(data).into_owned();
                        }
                        if cn == 49 && function == 81 {
                            out.push_str(&format!("[QR {qr}]"));
                        }
                        5 + length
                    }
                    other => return Err(format!("unknown GS {other:#04x} at {i}")),
                };
            }
            byte if byte < 0x20 || byte == 0x7F => return Err(format!("control byte {byte:#04x} at {i}")),
            byte => {
                out.push(pc863(byte));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The paper's lines as they read on the roll: markers taken out, lines that held only
/// markers left out.
pub fn text_lines(paper: &str) -> impl Iterator<Item = String> + '_ {
    paper.lines().filter_map(|line| {
        let mut text = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(start) = rest.find('[') {
            text.push_str(&rest[..start]);
            let tail = &rest[start..];
            let marker = ["[B]", "[/B]", "[CUT]", "[DRAWER pin ", "[QR "].iter().any(|m| tail.starts_with(m));
            match tail.find(']') {
                Some(end) if marker => rest = &tail[end + 1..],
                _ => {
                    text.push('[');
                    rest = &tail[1..];
                }
            }
        }
        text.push_str(rest);
        let only_markers = text.is_empty() && !line.is_empty();
        (!only_markers).then_some(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_letters_round_trip_and_the_rest_has_a_look_alike() {
        for c in "ÇüéâàçêëèïîÉÈÊôËÏûùÔÜÙÛÀ«»".chars() {
            assert!(in_pc863(c), "{c}");
        }
        assert_eq!(to_pc863("Sirop d’érable — «bio» œuf"), "Sirop d'érable - «bio» ouf");
        assert_eq!(to_pc863("€"), "?");
        assert_eq!(pc863(0x82), 'é');
        assert_eq!(pc863(0xFF), '\u{a0}');
        assert_eq!(read(&[0x1B, b'@', 0x82, b'\n', 0x1D, b'V', b'A', 0]).unwrap(), "é\n[CUT]");
        assert!(read(&[0x1B, b'Z', 0]).unwrap_err().contains("ESC 0x5a"));
        let paper = "[B]Caisse\n[/B]Rue [3]\n[QR 0193]VMTL-01-000001\n[CUT][DRAWER pin 2]";
        let lines: Vec<String> = text_lines(paper).collect();
        assert_eq!(lines, ["Caisse", "Rue [3]", "VMTL-01-000001"]);
    }
}
