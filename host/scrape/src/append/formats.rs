//! The other bodies a scrape can bring: Prometheus' protobuf exposition (native histograms,
//! classic series, NHCB, start timestamps, exemplars), and the text formats with classic
//! histograms converted to native histograms with custom buckets (Prometheus'
//! `NHCBParser`). Both feed [`ScrapeCache::add_sample`] like the text path does.

use std::collections::HashMap;

use sightline_exposition::nhcb::{Converted, TempHistogram};
use sightline_exposition::proto::{parse_proto, ProtoEntry, ProtoOptions, ProtoValue};
use sightline_exposition::{Entry, Format};
use sightline_model::{FloatHistogram, Histogram, Labels, LabelsBuilder, Metadata, MetricType};
use sightline_storage_api::Appender;

use super::{AppendOptions, AppendOutcome, SampleValue, ScrapeCache};
use crate::{Error, Result};

/// The format a body is parsed in, picked from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// Text 0.0.4 or OpenMetrics.
    Text(Format),
    /// Delimited protobuf `MetricFamily` messages.
    Proto,
}

impl ScrapeCache {
    /// Parses `body` in `format` and appends its samples at scrape time `ts` (see
    /// [`ScrapeCache::append`], which this dispatches to for plain text bodies).
    pub(crate) fn append_body(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        format: BodyFormat,
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<AppendOutcome> {
        match format {
            BodyFormat::Text(f) if opts.histograms.nhcb => {
                self.append_text_nhcb(app, body, f, ts, opts)
            }
            BodyFormat::Text(f) => self.append(app, body, f, ts, opts),
            BodyFormat::Proto => self.append_proto(app, body, ts, opts),
        }
    }

    fn append_proto(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<AppendOutcome> {
        self.begin();
        let mut out = AppendOutcome::default();
        let mut new_meta: HashMap<String, Metadata> = HashMap::new();
        let h = &opts.histograms;
        let mut p = parse_proto(
            body,
            ProtoOptions {
                ignore_native_histograms: !h.native,
                keep_classic_histograms: h.always_classic,
                convert_classic_histograms_to_nhcb: h.nhcb,
            },
        );
        while let Some(entry) = p.next_entry() {
            let s = match entry.map_err(|e| Error::Parse(e.to_string()))? {
                ProtoEntry::Sample(s) => s,
                ProtoEntry::Type { name, metric_type } => {
                    new_meta.entry(name.to_string()).or_default().metric_type = metric_type;
                    continue;
                }
                ProtoEntry::Help { name, help } => {
                    new_meta.entry(name.to_string()).or_default().help = help.into_owned();
                    continue;
                }
                ProtoEntry::Unit { name, unit } => {
                    new_meta.entry(name.to_string()).or_default().unit = unit.to_string();
                    continue;
                }
            };
            let value = match s.value {
                ProtoValue::Float(v) => SampleValue::Float(v),
                ProtoValue::Histogram(h) => SampleValue::Histogram(h),
                ProtoValue::FloatHistogram(h) => SampleValue::FloatHistogram(h),
            };
            out.exemplars += s.exemplars.len();
            self.add_sample(
                app,
                &mut out,
                s.key,
                |b| s.labels_into(b),
                s.timestamp_ms,
                s.start_timestamp_ms,
                value,
                ts,
                opts,
            )?;
        }
        self.end_body(app, new_meta, true, ts)?;
        Ok(out)
    }

    /// The text formats with classic histograms converted to NHCB: the series of one classic
    /// histogram (same family, same labels but `le`) are collected and become one native
    /// histogram when the group ends (another series, a metadata line or the body's end);
    /// the classic series themselves are appended only with `always_scrape_classic_histograms`.
    /// A group that does not convert is dropped, as Prometheus drops it.
    fn append_text_nhcb(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        format: Format,
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<AppendOutcome> {
        self.begin();
        let mut out = AppendOutcome::default();
        let mut new_meta: HashMap<String, Metadata> = HashMap::new();
        let mut nhcb = Collector::default();
        let keep = opts.histograms.always_classic;
        let mut b = LabelsBuilder::new();
        for entry in sightline_exposition::parse(body, format) {
            let s = match entry.map_err(|e| Error::Parse(e.to_string()))? {
                Entry::Series(s) => s,
                e => {
                    // Any other line ends a group.
                    self.emit_nhcb(app, &mut out, &mut nhcb, ts, opts)?;
                    match e {
                        Entry::Type { name, metric_type } => {
                            nhcb.family = (name.to_string(), metric_type);
                            new_meta.entry(name.to_string()).or_default().metric_type = metric_type;
                        }
                        Entry::Help { name, help } => {
                            new_meta.entry(name.to_string()).or_default().help = help.into_owned();
                        }
                        Entry::Unit { name, unit } => {
                            new_meta.entry(name.to_string()).or_default().unit = unit.to_string();
                        }
                        _ => {}
                    }
                    continue;
                }
            };
            let exemplars = usize::from(s.exemplar.is_some());
            out.exemplars += exemplars;
            // Labels are decoded only inside histogram families: nothing else can convert.
            let classic = if nhcb.family.1 == MetricType::Histogram {
                b.clear();
                s.labels_into(&mut b);
                let labels = b.build();
                if nhcb.collecting && nhcb.different(&labels) {
                    self.emit_nhcb(app, &mut out, &mut nhcb, ts, opts)?;
                }
                nhcb.take(&labels, s.value, s.timestamp_ms, exemplars)
            } else {
                self.emit_nhcb(app, &mut out, &mut nhcb, ts, opts)?;
                false
            };
            if classic && !keep {
                continue;
            }
            self.add_sample(
                app,
                &mut out,
                s.raw,
                |b| s.labels_into(b),
                s.timestamp_ms,
                0,
                SampleValue::Float(s.value),
                ts,
                opts,
            )?;
        }
        self.emit_nhcb(app, &mut out, &mut nhcb, ts, opts)?;
        self.end_body(app, new_meta, format == Format::OpenMetrics, ts)?;
        Ok(out)
    }

    /// Appends the collected group as a native histogram, if it converts.
    fn emit_nhcb(
        &mut self,
        app: &mut dyn Appender,
        out: &mut AppendOutcome,
        c: &mut Collector,
        ts: i64,
        opts: &AppendOptions,
    ) -> Result<()> {
        if !c.collecting {
            return Ok(());
        }
        c.collecting = false;
        let converted = c.tmp.convert();
        c.tmp.reset();
        let Ok(converted) = converted else {
            return Ok(());
        };
        // The key: a byte no text series starts with, then the labels.
        let mut key = vec![0xfe];
        for l in c.base.iter() {
            key.push(0xff);
            key.extend_from_slice(l.name.as_bytes());
            key.push(0xff);
            key.extend_from_slice(l.value.as_bytes());
        }
        let base = &c.base;
        let fill = |b: &mut LabelsBuilder| {
            for l in base.iter() {
                b.push_unchecked(l.name.as_str(), l.value.as_str());
            }
        };
        // As Prometheus, a conversion that is not a valid histogram is dropped.
        let (h, fh): (Option<Histogram>, Option<FloatHistogram>) = match converted {
            Converted::Int(h) if h.validate().is_ok() => (Some(h), None),
            Converted::Float(f) if f.validate().is_ok() => (None, Some(f)),
            _ => return Ok(()),
        };
        let value = match (&h, &fh) {
            (Some(h), _) => SampleValue::Histogram(h),
            (_, Some(f)) => SampleValue::FloatHistogram(f),
            _ => return Ok(()),
        };
        self.add_sample(app, out, &key, fill, c.ts, 0, value, ts, opts)
    }
}

/// The classic histogram being collected from a text body.
#[derive(Default)]
struct Collector {
    /// The family of the last `# TYPE` line.
    family: (String, MetricType),
    collecting: bool,
    /// The group's base name and labels without `__name__` and `le`.
    name: String,
    rest: Vec<(String, String)>,
    /// The histogram's labels: the base name and `rest`.
    base: Labels,
    ts: Option<i64>,
    tmp: TempHistogram,
}

/// The base name and kind of a classic histogram series name.
fn split_suffix(name: &str) -> Option<(&str, u8)> {
    if let Some(b) = name.strip_suffix("_bucket") {
        Some((b, b'b'))
    } else if let Some(b) = name.strip_suffix("_sum") {
        Some((b, b's'))
    } else {
        name.strip_suffix("_count").map(|b| (b, b'c'))
    }
}

fn rest_of(labels: &Labels) -> impl Iterator<Item = (&str, &str)> {
    labels
        .iter()
        .filter(|l| l.name != sightline_model::METRIC_NAME && l.name != "le")
        .map(|l| (l.name.as_str(), l.value.as_str()))
}

impl Collector {
    /// Prometheus' `differentMetric`: another type, base name or label set.
    fn different(&self, labels: &Labels) -> bool {
        if self.family.1 != MetricType::Histogram {
            return true;
        }
        let name = labels.metric_name().unwrap_or("");
        let base = split_suffix(name).map_or(name, |(b, _)| b);
        base != self.name
            || !rest_of(labels).eq(self.rest.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// Prometheus' `handleClassicHistogramSeries`: whether the series belongs to a classic
    /// histogram of the current family (then its value is collected).
    fn take(&mut self, labels: &Labels, v: f64, t: Option<i64>, _exemplars: usize) -> bool {
        if self.family.1 != MetricType::Histogram {
            return false;
        }
        let name = labels.metric_name().unwrap_or("");
        let Some((base, kind)) = split_suffix(name) else {
            return false;
        };
        if base != self.family.0 {
            return false;
        }
        let le = if kind == b'b' {
            match labels.get("le").map(str::parse::<f64>) {
                Some(Ok(le)) if !le.is_nan() => Some(le),
                _ => return false,
            }
        } else {
            None
        };
        if !self.collecting {
            self.collecting = true;
            self.name = base.to_string();
            self.rest = rest_of(labels)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            let mut b = labels.builder();
            b.set(sightline_model::METRIC_NAME, base);
            b.del("le");
            self.base = b.build();
        }
        self.ts = t;
        // Errors stay in the collector and drop the group when it converts.
        let _ = match (kind, le) {
            (b'b', Some(le)) => self.tmp.set_bucket_count(le, v),
            (b'c', _) => self.tmp.set_count(v),
            _ => self.tmp.set_sum(v),
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::append::HistogramOptions;
    use sightline_exposition::proto::*;
    use sightline_model::{is_stale_nan, Matcher, Span};
    use sightline_storage_api::{Appendable, MemStorage, Queryable};

    fn opts(h: HistogramOptions) -> AppendOptions {
        let mut o = AppendOptions::for_test(Labels::from_pairs([("job", "j")]));
        o.histograms = h;
        o
    }

    fn scrape(
        c: &mut ScrapeCache,
        st: &MemStorage,
        body: &[u8],
        f: BodyFormat,
        ts: i64,
        o: &AppendOptions,
    ) -> Result<AppendOutcome> {
        let mut app = st.appender();
        let r = c.append_body(app.as_mut(), body, f, ts, o);
        match &r {
            Ok(_) => app.commit().unwrap(),
            Err(_) => {
                app.rollback().unwrap();
                let mut app = st.appender();
                c.append_failed(app.as_mut(), ts).unwrap();
                app.commit().unwrap();
            }
        }
        r
    }

    /// `(t, v, is histogram, start)` of one sample.
    type Point = (i64, f64, bool, i64);

    /// Every series named `name` with its samples.
    fn samples(st: &MemStorage, name: &str) -> Vec<(String, Vec<Point>)> {
        let q = st.querier(i64::MIN, i64::MAX).unwrap();
        q.select(true, None, &[Matcher::equal("__name__", name)])
            .unwrap()
            .into_iter()
            .map(|mut s| {
                let mut v = Vec::new();
                while let Some(x) = s.samples.next_sample() {
                    let h = s.samples.histogram().is_some();
                    v.push((x.t, x.v, h, s.samples.start_timestamp()));
                }
                (s.labels.to_string(), v)
            })
            .collect()
    }

    fn native_family(buckets: usize) -> MetricFamily {
        MetricFamily {
            name: "h".into(),
            metric_type: TYPE_HISTOGRAM,
            metric: vec![Metric {
                histogram: Some(HistogramMsg {
                    sample_count: buckets as u64,
                    schema: 0,
                    positive_span: vec![Span::new(0, buckets as u32)],
                    positive_delta: (0..buckets).map(|i| i64::from(i == 0)).collect(),
                    exemplars: vec![Exemplar {
                        value: 1.0,
                        timestamp: Some(Timestamp::from_ms(5)),
                        ..Exemplar::default()
                    }],
                    start_timestamp: Some(Timestamp::from_ms(7)),
                    ..HistogramMsg::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        }
    }

    fn counter(st_ms: i64) -> MetricFamily {
        MetricFamily {
            name: "c_total".into(),
            metric_type: TYPE_COUNTER,
            metric: vec![Metric {
                counter: Some(Counter {
                    value: 3.0,
                    start_timestamp: Some(Timestamp::from_ms(st_ms)),
                    ..Counter::default()
                }),
                ..Metric::default()
            }],
            ..MetricFamily::default()
        }
    }

    #[test]
    fn histograms_count_as_one_sample_and_starts_reach_storage() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let native = HistogramOptions {
            native: true,
            ..HistogramOptions::default()
        };
        let body = encode_delimited(&[native_family(4), counter(900)]);
        let o = scrape(&mut c, &st, &body, BodyFormat::Proto, 1000, &opts(native)).unwrap();
        assert_eq!((o.scraped, o.post_relabel, o.series_added), (2, 2, 2));
        assert_eq!(o.exemplars, 1);
        assert_eq!(
            samples(&st, "h")[0].1,
            vec![(1000, samples(&st, "h")[0].1[0].1, true, 0)]
        );
        // The counter's start timestamp is stored with its sample.
        assert_eq!(samples(&st, "c_total")[0].1, vec![(1000, 3.0, false, 900)]);
        // A sample limit of 1 is exceeded by the second sample.
        let mut lim = opts(native);
        lim.sample_limit = 1;
        let e = scrape(&mut c, &st, &body, BodyFormat::Proto, 2000, &lim).unwrap_err();
        assert!(matches!(e, Error::SampleLimit));
        // The failed scrape marked both series stale.
        assert!(samples(&st, "h")[0]
            .1
            .last()
            .is_some_and(|s| is_stale_nan(s.1)));
    }

    #[test]
    fn a_histogram_over_the_bucket_limit_is_reduced_or_fails_the_scrape() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let h = HistogramOptions {
            native: true,
            bucket_limit: 2,
            ..HistogramOptions::default()
        };
        // Schema 0 with 4 buckets: reduced to schema -1 (indices 0..=3 become 0, 1, 1, 2), then -2.
        let body = encode_delimited(&[native_family(4)]);
        scrape(&mut c, &st, &body, BodyFormat::Proto, 1000, &opts(h)).unwrap();
        assert_eq!(samples(&st, "h")[0].1.len(), 1);
        let h1 = HistogramOptions {
            bucket_limit: 1,
            ..h
        };
        let mut many = native_family(4);
        if let Some(x) = many.metric[0].histogram.as_mut() {
            x.schema = -4;
            x.positive_span = vec![Span::new(0, 1), Span::new(100, 1)];
            x.positive_delta = vec![1, 0];
        }
        let e = scrape(
            &mut c,
            &st,
            &encode_delimited(&[many]),
            BodyFormat::Proto,
            2000,
            &opts(h1),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "histogram bucket limit exceeded");
    }

    const CLASSIC: &str = "# TYPE rpc histogram\n\
        rpc_bucket{a=\"1\",le=\"1\"} 1\nrpc_bucket{a=\"1\",le=\"+Inf\"} 2\nrpc_sum{a=\"1\"} 3\nrpc_count{a=\"1\"} 2\n\
        rpc_bucket{a=\"2\",le=\"1\"} 0.5\nrpc_bucket{a=\"2\",le=\"+Inf\"} 1.5\nrpc_count{a=\"2\"} 1.5\n\
        rpc_bucket{a=\"3\",le=\"1\"} 5\nrpc_bucket{a=\"3\",le=\"+Inf\"} 4\n";

    #[test]
    fn text_nhcb_groups_by_labels_and_keeps_classic_on_request() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let h = HistogramOptions {
            nhcb: true,
            ..HistogramOptions::default()
        };
        let text = BodyFormat::Text(Format::PromText);
        let o = scrape(&mut c, &st, CLASSIC.as_bytes(), text, 1000, &opts(h)).unwrap();
        // Two groups convert (integer and float counts); the third is not cumulative and
        // is dropped with its classic series, as Prometheus does.
        let got = samples(&st, "rpc");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|s| s.1[0].2));
        assert_eq!(o.scraped, 2);
        assert!(samples(&st, "rpc_bucket").is_empty());
        // A second scrape finds the same series through the cache.
        let o = scrape(&mut c, &st, CLASSIC.as_bytes(), text, 2000, &opts(h)).unwrap();
        assert_eq!((o.scraped, o.series_added), (2, 0));
        // Keeping the classic series too.
        let keep = HistogramOptions {
            always_classic: true,
            ..h
        };
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let o = scrape(&mut c, &st, CLASSIC.as_bytes(), text, 1000, &opts(keep)).unwrap();
        assert_eq!(o.scraped, 9 + 2);
        assert_eq!(samples(&st, "rpc_bucket").len(), 6);
        // OpenMetrics too.
        let om = "# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_bucket{le=\"+Inf\"} 1\nx_count 1\nx_sum 0.5\n# EOF\n";
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        scrape(
            &mut c,
            &st,
            om.as_bytes(),
            BodyFormat::Text(Format::OpenMetrics),
            1000,
            &opts(h),
        )
        .unwrap();
        assert!(samples(&st, "x")[0].1[0].2);
    }

    #[test]
    fn protobuf_parse_errors_fail_the_scrape_with_the_offset() {
        let st = MemStorage::new();
        let mut c = ScrapeCache::new();
        let e = scrape(
            &mut c,
            &st,
            &[0x09, 0x0a],
            BodyFormat::Proto,
            1000,
            &opts(HistogramOptions::default()),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("protobuf: byte 0: insufficient length"),
            "{e}"
        );
    }
}
