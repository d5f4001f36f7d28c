//! Bucket bounds and bucket iteration of native histograms (Prometheus' `getBound` and the
//! `AllBucketIterator` / `AllReverseBucketIterator` of `model/histogram`), as the quantile
//! and fraction estimates need them.

use sightline_model::histogram::{is_custom_buckets, FloatHistogram, Span};

/// One bucket with its bounds and absolute count (`histogram.Bucket[float64]`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bucket {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Whether the lower bound belongs to the bucket.
    pub lower_inclusive: bool,
    /// Whether the upper bound belongs to the bucket.
    pub upper_inclusive: bool,
    /// Observations in the bucket.
    pub count: f64,
    /// Index within the schema (irrelevant for the zero bucket).
    pub index: i32,
}

impl Bucket {
    /// The fraction of the bucket's width at or below `v`, for `lower < v < upper`
    /// (`Bucket.FractionBelow`): linear for custom buckets and the zero bucket, on a
    /// logarithmic scale for exponential buckets (mirrored for negative ones).
    pub fn fraction_below(&self, v: f64, linear: bool) -> f64 {
        if linear {
            return (v - self.lower) / (self.upper - self.lower);
        }
        let log_lower = self.lower.abs().log2();
        let log_upper = self.upper.abs().log2();
        let log_v = v.abs().log2();
        if v > 0.0 {
            return (log_v - log_lower) / (log_upper - log_lower);
        }
        1.0 - ((log_v - log_upper) / (log_lower - log_upper))
    }
}

/// Prometheus' precalculated bucket bounds in `[0.5, 1)` for schema 8; schema `s` uses every
/// `2^(8-s)`th entry. They are copied rather than computed because Prometheus' table is not
/// always the correctly rounded `2^x` (`0.7071067811865475`), and results must match bit
/// for bit.
const EXPONENTIAL_BOUNDS: [f64; 256] = [
    0.5,
    0.5013556375251013,
    0.5027149505564014,
    0.5040779490592088,
    0.5054446430258502,
    0.5068150424757447,
    0.5081891574554764,
    0.509566998038869,
    0.5109485743270583,
    0.5123338964485679,
    0.5137229745593818,
    0.5151158188430205,
    0.5165124395106142,
    0.5179128468009786,
    0.5193170509806894,
    0.520725062344158,
    0.5221368912137069,
    0.5235525479396449,
    0.5249720429003435,
    0.526395386502313,
    0.5278225891802786,
    0.5292536613972564,
    0.5306886136446309,
    0.5321274564422321,
    0.5335702003384117,
    0.5350168559101208,
    0.5364674337629877,
    0.5379219445313954,
    0.5393803988785598,
    0.5408428074966075,
    0.5423091811066545,
    0.5437795304588847,
    0.5452538663326288,
    0.5467321995364429,
    0.5482145409081883,
    0.549700901315111,
    0.5511912916539204,
    0.5526857228508706,
    0.5541842058618393,
    0.5556867516724088,
    0.5571933712979462,
    0.5587040757836845,
    0.5602188762048033,
    0.5617377836665098,
    0.5632608093041209,
    0.564787964283144,
    0.5663192597993595,
    0.5678547070789026,
    0.5693943173783458,
    0.5709381019847808,
    0.572486072215902,
    0.5740382394200894,
    0.5755946149764913,
    0.5771552102951081,
    0.5787200368168754,
    0.5802891060137493,
    0.5818624293887887,
    0.5834400184762408,
    0.585021884841625,
    0.5866080400818185,
    0.5881984958251406,
    0.5897932637314379,
    0.5913923554921704,
    0.5929957828304968,
    0.5946035575013605,
    0.5962156912915756,
    0.5978321960199137,
    0.5994530835371903,
    0.6010783657263515,
    0.6027080545025619,
    0.6043421618132907,
    0.6059806996384005,
    0.6076236799902344,
    0.6092711149137041,
    0.6109230164863786,
    0.6125793968185725,
    0.6142402680534349,
    0.6159056423670379,
    0.6175755319684665,
    0.6192499490999082,
    0.620928906036742,
    0.622612415087629,
    0.6243004885946023,
    0.6259931389331581,
    0.6276903785123455,
    0.6293922197748583,
    0.6310986751971253,
    0.6328097572894031,
    0.6345254785958666,
    0.6362458516947014,
    0.637970889198196,
    0.6397006037528346,
    0.6414350080393891,
    0.6431741147730128,
    0.6449179367033329,
    0.6466664866145447,
    0.6484197773255048,
    0.6501778216898253,
    0.6519406325959679,
    0.6537082229673385,
    0.6554806057623822,
    0.6572577939746774,
    0.659039800633032,
    0.6608266388015788,
    0.6626183215798706,
    0.6644148621029772,
    0.6662162735415805,
    0.6680225691020727,
    0.6698337620266515,
    0.6716498655934177,
    0.6734708931164728,
    0.6752968579460171,
    0.6771277734684463,
    0.6789636531064505,
    0.6808045103191123,
    0.6826503586020058,
    0.6845012114872953,
    0.6863570825438342,
    0.688217985377265,
    0.690083933630119,
    0.6919549409819159,
    0.6938310211492645,
    0.6957121878859629,
    0.6975984549830999,
    0.6994898362691555,
    0.7013863456101023,
    0.7032879969095076,
    0.7051948041086352,
    0.7071067811865475,
    0.7090239421602076,
    0.7109463010845827,
    0.7128738720527471,
    0.7148066691959849,
    0.7167447066838943,
    0.718687998724491,
    0.7206365595643126,
    0.7225904034885232,
    0.7245495448210174,
    0.7265139979245261,
    0.7284837772007218,
    0.7304588970903234,
    0.7324393720732029,
    0.7344252166684908,
    0.7364164454346837,
    0.7384130729697496,
    0.7404151139112358,
    0.7424225829363761,
    0.7444354947621984,
    0.7464538641456323,
    0.7484777058836176,
    0.7505070348132126,
    0.7525418658117031,
    0.7545822137967112,
    0.7566280937263048,
    0.7586795205991071,
    0.7607365094544071,
    0.762799075372269,
    0.7648672334736434,
    0.7669409989204777,
    0.7690203869158282,
    0.7711054127039704,
    0.7731960915705107,
    0.7752924388424999,
    0.7773944698885442,
    0.7795022001189185,
    0.7816156449856788,
    0.7837348199827764,
    0.7858597406461707,
    0.7879904225539431,
    0.7901268813264122,
    0.7922691326262467,
    0.7944171921585818,
    0.7965710756711334,
    0.7987307989543135,
    0.8008963778413465,
    0.8030678282083853,
    0.805245165974627,
    0.8074284071024302,
    0.8096175675974316,
    0.8118126635086642,
    0.8140137109286738,
    0.8162207259936375,
    0.8184337248834821,
    0.820652723822003,
    0.8228777390769823,
    0.8251087869603088,
    0.8273458838280969,
    0.8295890460808079,
    0.8318382901633681,
    0.8340936325652911,
    0.8363550898207981,
    0.8386226785089391,
    0.8408964152537144,
    0.8431763167241966,
    0.8454623996346523,
    0.8477546807446661,
    0.8500531768592616,
    0.8523579048290255,
    0.8546688815502312,
    0.8569861239649629,
    0.8593096490612387,
    0.8616394738731368,
    0.8639756154809185,
    0.8663180910111553,
    0.8686669176368529,
    0.871022112577578,
    0.8733836930995842,
    0.8757516765159389,
    0.8781260801866495,
    0.8805069215187917,
    0.8828942179666361,
    0.8852879870317771,
    0.8876882462632604,
    0.890095013257712,
    0.8925083056594671,
    0.8949281411607002,
    0.8973545375015533,
    0.8997875124702672,
    0.9022270839033115,
    0.9046732696855155,
    0.9071260877501991,
    0.909585556079304,
    0.9120516927035263,
    0.9145245157024483,
    0.9170040432046711,
    0.9194902933879467,
    0.9219832844793128,
    0.9244830347552253,
    0.9269895625416926,
    0.92950288621441,
    0.9320230241988943,
    0.9345499949706191,
    0.9370838170551498,
    0.93962450902828,
    0.9421720895161669,
    0.9447265771954693,
    0.9472879907934827,
    0.9498563490882775,
    0.9524316709088368,
    0.9550139751351947,
    0.9576032806985735,
    0.9601996065815236,
    0.9628029718180622,
    0.9654133954938133,
    0.9680308967461471,
    0.9706554947643201,
    0.9732872087896164,
    0.9759260581154889,
    0.9785720620876999,
    0.9812252401044634,
    0.9838856116165875,
    0.9865531961276168,
    0.9892280131939752,
    0.9919100824251095,
    0.9945994234836328,
    0.9972960560854698,
];

/// The upper bound of bucket `idx` (`getBound`): `custom_values[idx]` for custom buckets
/// (`-Inf` for `-1`, `+Inf` past the end), `2^(idx * 2^-schema)` otherwise.
pub fn get_bound(idx: i32, schema: i32, custom_values: &[f64]) -> f64 {
    if is_custom_buckets(schema) {
        let len = custom_values.len() as i64;
        let i = i64::from(idx);
        return if i >= len {
            f64::INFINITY
        } else if i < 0 {
            f64::NEG_INFINITY
        } else {
            custom_values[i as usize]
        };
    }
    get_bound_exponential(idx, schema)
}

/// `getBoundExponential`: the upper bound of the last bucket for regular numbers is
/// `f64::MAX` (the next one, counting infinite observations, ends at `+Inf`).
pub fn get_bound_exponential(idx: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = i64::from(idx) << (-schema).min(62);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let schema = schema.min(8);
    let frac_idx = idx & ((1 << schema) - 1);
    let frac = EXPONENTIAL_BOUNDS[(frac_idx as usize) << (8 - schema)];
    let exp = i64::from(idx >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// `math.Ldexp`: `frac * 2^exp`, saturating to 0 or infinity, exact for subnormals.
fn ldexp(frac: f64, exp: i64) -> f64 {
    let mut x = frac;
    let mut e = exp.clamp(-2200, 2200);
    // Scale in steps that stay representable so that the result rounds once at most.
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

/// Walks one side's spans forward, yielding `(index, count)` from the lowest index up.
#[derive(Debug, Clone)]
struct Forward<'a> {
    spans: &'a [Span],
    buckets: &'a [f64],
    span_idx: usize,
    in_span: u32,
    bucket_idx: usize,
    curr_idx: i32,
}

impl<'a> Forward<'a> {
    fn new(spans: &'a [Span], buckets: &'a [f64]) -> Self {
        Forward {
            spans,
            buckets,
            span_idx: 0,
            in_span: 0,
            bucket_idx: 0,
            curr_idx: 0,
        }
    }
}

impl Iterator for Forward<'_> {
    type Item = (i32, f64);

    fn next(&mut self) -> Option<(i32, f64)> {
        let mut span = *self.spans.get(self.span_idx)?;
        if self.bucket_idx == 0 {
            self.curr_idx = span.offset;
        } else {
            self.curr_idx = self.curr_idx.wrapping_add(1);
        }
        // An invalid histogram (fewer buckets than its spans say) ends early.
        let count = *self.buckets.get(self.bucket_idx)?;
        while self.in_span >= span.length {
            self.in_span = 0;
            self.span_idx += 1;
            span = *self.spans.get(self.span_idx)?;
            self.curr_idx = self.curr_idx.wrapping_add(span.offset);
        }
        self.in_span += 1;
        self.bucket_idx += 1;
        Some((self.curr_idx, count))
    }
}

/// Walks one side's spans backward, yielding `(index, count)` from the highest index down.
#[derive(Debug, Clone)]
struct Reverse<'a> {
    spans: &'a [Span],
    buckets: &'a [f64],
    span_idx: isize,
    in_span: i64,
    bucket_idx: isize,
    curr_idx: i32,
}

impl<'a> Reverse<'a> {
    fn new(spans: &'a [Span], buckets: &'a [f64]) -> Self {
        let curr_idx = spans.iter().fold(0i32, |a, s| {
            a.wrapping_add(s.offset).wrapping_add(s.length as i32)
        });
        Reverse {
            spans,
            buckets,
            span_idx: spans.len() as isize - 1,
            in_span: spans.last().map_or(-1, |s| i64::from(s.length) - 1),
            bucket_idx: buckets.len() as isize - 1,
            curr_idx,
        }
    }
}

impl Iterator for Reverse<'_> {
    type Item = (i32, f64);

    fn next(&mut self) -> Option<(i32, f64)> {
        self.curr_idx = self.curr_idx.wrapping_sub(1);
        if self.bucket_idx < 0 {
            return None;
        }
        while self.in_span < 0 {
            self.span_idx -= 1;
            if self.span_idx < 0 {
                return None;
            }
            let s = self.span_idx as usize;
            self.in_span = i64::from(self.spans[s].length) - 1;
            self.curr_idx = self.curr_idx.wrapping_sub(self.spans[s + 1].offset);
        }
        let count = *self.buckets.get(self.bucket_idx as usize)?;
        self.bucket_idx -= 1;
        self.in_span -= 1;
        Some((self.curr_idx, count))
    }
}

/// The bucket at `idx` of the positive (or negative) side, with its bounds.
fn make_bucket(h: &FloatHistogram, positive: bool, idx: i32, count: f64) -> Bucket {
    let cv: &[f64] = if positive { &h.custom_values } else { &[] };
    let (lower, upper) = if positive {
        (
            get_bound(idx.wrapping_sub(1), h.schema, cv),
            get_bound(idx, h.schema, cv),
        )
    } else {
        (
            -get_bound(idx, h.schema, cv),
            -get_bound(idx.wrapping_sub(1), h.schema, cv),
        )
    };
    let (lower_inclusive, upper_inclusive) = if is_custom_buckets(h.schema) {
        (idx == 0, true)
    } else {
        (lower < 0.0, upper > 0.0)
    };
    Bucket {
        lower,
        upper,
        lower_inclusive,
        upper_inclusive,
        count,
        index: idx,
    }
}

/// The zero bucket (`FloatHistogram.ZeroBucket`).
pub fn zero_bucket(h: &FloatHistogram) -> Bucket {
    Bucket {
        lower: -h.zero_threshold,
        upper: h.zero_threshold,
        lower_inclusive: true,
        upper_inclusive: true,
        count: h.zero_count,
        index: 0,
    }
}

/// Buckets overlapping the zero bucket are cut at the zero threshold, as Prometheus' "all"
/// iterators do.
fn clamp_to_zero_threshold(mut b: Bucket, zt: f64) -> Bucket {
    if b.upper < 0.0 && b.upper > -zt {
        b.upper = -zt;
    } else if b.lower > 0.0 && b.lower < zt {
        b.lower = zt;
    }
    b
}

/// Every bucket in ascending order of value: negative buckets from the most negative, the
/// zero bucket (when it has observations), positive buckets (`AllBucketIterator`).
pub fn all_buckets(h: &FloatHistogram) -> impl Iterator<Item = Bucket> + '_ {
    let neg = Reverse::new(&h.negative_spans, &h.negative_buckets)
        .map(move |(i, c)| clamp_to_zero_threshold(make_bucket(h, false, i, c), h.zero_threshold));
    let zero = (h.zero_count > 0.0 && !is_custom_buckets(h.schema)).then(|| zero_bucket(h));
    let pos = Forward::new(&h.positive_spans, &h.positive_buckets)
        .map(move |(i, c)| clamp_to_zero_threshold(make_bucket(h, true, i, c), h.zero_threshold));
    neg.chain(zero).chain(pos)
}

/// Every bucket in descending order of value (`AllReverseBucketIterator`).
pub fn all_buckets_reverse(h: &FloatHistogram) -> impl Iterator<Item = Bucket> + '_ {
    let pos = Reverse::new(&h.positive_spans, &h.positive_buckets)
        .map(move |(i, c)| clamp_to_zero_threshold(make_bucket(h, true, i, c), h.zero_threshold));
    let zero = (h.zero_count > 0.0 && !is_custom_buckets(h.schema)).then(|| zero_bucket(h));
    let neg = Forward::new(&h.negative_spans, &h.negative_buckets)
        .map(move |(i, c)| clamp_to_zero_threshold(make_bucket(h, false, i, c), h.zero_threshold));
    pos.chain(zero).chain(neg)
}
