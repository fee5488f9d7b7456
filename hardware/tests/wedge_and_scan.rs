//! Arbitrary input never panics the readers, never yields a product with a wrong check digit,
//! and the wedge decoder returns exactly the scans that were made, in order, however people
//! type around them.

use hardware::scan::{Scan, VariableMeasure, read};
use hardware::wedge::{Input, WedgeDecoder};
use proptest::prelude::*;

fn gs1_valid(code: &str) -> bool {
    let d: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let offset = if d.len().is_multiple_of(2) { 1 } else { 0 };
    d.iter().enumerate().map(|(i, x)| if (i + offset) % 2 == 0 { *x } else { x * 3 }).sum::<u32>() % 10 == 0
}

#[derive(Debug, Clone)]
enum Event {
    /// A scan of these characters, one every `gap` ms.
    Scanned(String, u64),
    /// A person typing these characters, one every `gap` ms, with or without Enter.
    Typed(String, u64, bool),
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    let scan = ("[0-9A-Z]{6,14}", 1u64..=20).prop_map(|(s, g)| Event::Scanned(s, g));
    let typing =
        ("[0-9a-z ]{0,8}", 60u64..400, any::<bool>()).prop_map(|(s, g, enter)| Event::Typed(s, g, enter));
    prop::collection::vec(prop_oneof![scan, typing], 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic_nor_accept_a_bad_check_digit(text in "\\PC{0,30}") {
        if let Ok(Scan::Product(code)) = read(&text, &VariableMeasure::default()) {
            prop_assert!(gs1_valid(code.as_str()), "{code} from {text:?}");
        }
    }

    #[test]
    fn digit_strings_never_yield_a_bad_check_digit(text in "[0-9]{6,14}") {
        if let Ok(Scan::Product(code) | Scan::Measured { barcode: code, .. }) = read(&text, &VariableMeasure::default()) {
            prop_assert!(gs1_valid(code.as_str()));
        }
    }

    /// Any keys at any times: no panic, and nothing comes out that did not go in.
    #[test]
    fn the_wedge_decoder_takes_arbitrary_keys(keys in prop::collection::vec((any::<char>(), 0u64..200), 0..200)) {
        let mut decoder = WedgeDecoder::default();
        let mut now = 0u64;
        let mut typed = String::new();
        let mut out = String::new();
        for (key, gap) in keys {
            now += gap;
            typed.push(if key == '\r' { '\n' } else { key });
            for input in decoder.key(key, now) {
                match input {
                    Input::Scan(s) => { out.push_str(&s); out.push('\n'); }
                    Input::Typed(s) => out.push_str(&s),
                }
            }
        }
        if let Some(Input::Typed(s) | Input::Scan(s)) = decoder.idle(now + 1_000) { out.push_str(&s); }
        prop_assert_eq!(out, typed, "keys were lost, added or reordered");
    }

    #[test]
    fn the_wedge_decoder_returns_exactly_the_scans(events in events()) {
        let mut decoder = WedgeDecoder::default();
        let mut now = 1_000u64;
        let mut expected = Vec::new();
        let mut got = Vec::new();
        for event in &events {
            match event {
                Event::Scanned(text, gap) => {
                    // A scanner starts after a pause, then types fast and ends with Enter.
                    now += 500;
                    for c in text.chars().chain(std::iter::once('\r')) {
                        got.extend(decoder.key(c, now));
                        now += gap;
                    }
                    expected.push(text.clone());
                }
                Event::Typed(text, gap, enter) => {
                    now += 500;
                    let keys: Vec<char> = text.chars().chain(enter.then_some('\n')).collect();
                    for c in keys {
                        got.extend(decoder.key(c, now));
                        now += gap;
                    }
                }
            }
        }
        got.extend(decoder.idle(now + 1_000));
        let scans: Vec<String> = got.into_iter().filter_map(|i| match i { Input::Scan(s) => Some(s), Input::Typed(_) => None }).collect();
        prop_assert_eq!(scans, expected);
    }
}
