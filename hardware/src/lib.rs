//! Caisse's peripherals, behind small types the register library drives.
//!
//! | module | holds |
//! |---|---|
//! | [`scan`] | what a scan means: EAN-13, EAN-8, UPC-A, UPC-E (expanded), Code 128 SKUs, GS1 variable-measure codes |
//! | [`wedge`] | telling a keyboard-wedge scanner's burst from a person typing |
//! | [`printer`] | receipts in ESC/POS, the cash drawer, links to printers with timeouts that ask the printer's real-time status, a fake printer and a decoder for tests, and [`printer::PrinterSpec`] (which printer, read from text) |
//! | [`serial`] | serial scanners: framing, prefix and suffix, surviving unplug and replug |

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod printer;
pub mod scan;
pub mod serial;
pub mod wedge;
