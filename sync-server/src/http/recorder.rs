//! The process's metrics recorder, shaped for what reads it: `deploy/grafana/caisse.json` and
//! `deploy/alerts.yml`.
//!
//! - Request durations are a Prometheus histogram (`_bucket` series), not the exporter's
//!   default summary: a summary's quantiles are each instance's own and cannot be added up,
//!   so neither `histogram_quantile` nor a cluster-wide p99 could be drawn from them.
//! - Every counter and gauge that a panel or an alert reads exists at 0 from start-up, with
//!   the label values its panel groups by. A series born at its first event draws nothing
//!   until then, and Prometheus sees no increase in a series whose first sample is already 1:
//!   the first dead letter or refused connection after a restart would be invisible.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The histogram of every request's duration, in seconds, labelled by method, route and status.
pub const REQUEST_DURATION: &str = "caisse_http_request_duration_seconds";

/// Upper bounds, in seconds, of the request-duration buckets: a catalogue read answers in about
/// a millisecond, a password check takes tens, a large push a second or more, and a request
/// past 10 s has failed for its client whatever it answers.
pub const REQUEST_DURATION_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0];

/// Counters that exist from start-up, each with every label set it is ever counted under.
pub const COUNTERS_AT_ZERO: &[(&str, &[(&str, &str)])] = &[
    ("caisse_records_ingested_total", &[]),
    ("caisse_records_duplicate_total", &[]),
    ("caisse_dead_letters_total", &[]),
    ("caisse_mail_sent_total", &[]),
    ("caisse_mail_deferred_total", &[]),
    ("caisse_connections_idle_closed_total", &[]),
    ("caisse_report_rows_folded_total", &[]),
    ("caisse_shop_checkouts_total", &[("step", "ordered")]),
    ("caisse_shop_checkouts_total", &[("step", "confirmed")]),
    ("caisse_shop_checkouts_total", &[("step", "cancelled")]),
    ("caisse_rate_limited_total", &[("bucket", "this API key")]),
    ("caisse_rate_limited_total", &[("bucket", "this address")]),
    ("caisse_rate_limited_total", &[("bucket", "this shopper")]),
    ("caisse_connections_refused_total", &[("why", "per_address")]),
    ("caisse_connections_refused_total", &[("why", "total")]),
];

/// Gauges without labels that exist from start-up.
pub const GAUGES_AT_ZERO: &[&str] = &["caisse_rate_limit_buckets"];

/// Series the dashboard reads that only an event can make, and why none exists at start-up:
/// their labels name a route or a register, known only when it is called or pushes.
pub const BORN_OF_EVENTS: &[(&str, &str)] = &[
    ("caisse_http_requests_total", "labelled by the route called"),
    ("caisse_http_request_duration_seconds_bucket", "labelled by the route called"),
    ("caisse_register_sync_lag_seconds", "labelled by the register that pushed"),
    ("caisse_register_last_push_age_seconds", "labelled by a register that has pushed"),
];

/// The process-wide metrics recorder: installed once, shared by every server in the process.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), &REQUEST_DURATION_BUCKETS)
                .expect("the request-duration buckets are not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_ok() {
                at_zero();
            }
            handle
        })
        .clone()
}

/// Touches every series of [`COUNTERS_AT_ZERO`] and [`GAUGES_AT_ZERO`] so that it renders.
fn at_zero() {
    for (name, labels) in COUNTERS_AT_ZERO {
        metrics::counter!(*name, *labels).increment(0);
    }
    for name in GAUGES_AT_ZERO {
        metrics::gauge!(*name).set(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `caisse_…` name in a text.
    fn names(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("caisse_") {
            let tail = &rest[at..];
            let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
            found.push(tail[..end].to_owned());
            rest = &tail[end..];
        }
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_series_the_dashboard_and_alerts_read_exists_from_start_up_or_is_born_of_an_event() {
        let rendered = prometheus().render();
        let shipped =
            [include_str!("../../../deploy/grafana/caisse.json"), include_str!("../../../deploy/alerts.yml")];
        let read: Vec<String> = shipped.iter().flat_map(|text| names(text)).collect();
        assert!(read.len() > 8, "{read:?}");
        for name in read {
            if BORN_OF_EVENTS.iter().any(|(born, _)| *born == name) {
                continue;
            }
            assert!(
                rendered
                    .lines()
                    .any(|line| line.starts_with(&format!("{name}{{"))
                        || line.starts_with(&format!("{name} "))),
                "{name} is read by a panel or an alert but does not exist at start-up:\n{rendered}"
            );
        }
        for (name, labels) in COUNTERS_AT_ZERO {
            for (key, value) in *labels {
                assert!(rendered.contains(&format!("{key}=\"{value}\"")), "{name} {key}={value}");
            }
        }
    }

    #[test]
    fn request_durations_render_as_a_histogram_with_their_buckets() {
        let handle = prometheus();
        metrics::histogram!(REQUEST_DURATION, "method" => "GET", "route" => "/recorder-test", "status" => "200")
            .record(0.003);
        let rendered = handle.render();
        let ours: Vec<&str> = rendered.lines().filter(|l| l.contains("/recorder-test")).collect();
        assert!(
            ours.iter().any(|l| l.starts_with(&format!("{REQUEST_DURATION}_bucket"))
                && l.contains("le=\"0.005\"")
                && l.ends_with(" 1")),
            "{ours:?}"
        );
        assert!(
            ours.iter().any(|l| l.contains("le=\"0.0025\"") && l.ends_with(" 0")),
            "3 ms is not under 2.5 ms: {ours:?}"
        );
        assert!(!ours.iter().any(|l| l.contains("quantile=")), "a summary, not a histogram: {ours:?}");
    }
}
