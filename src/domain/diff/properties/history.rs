//! Random carrier histories: a shipment's facts, and the snapshots a flaky source reports of
//! them, poll after poll (reordered, truncated, restored, re-timed, split, written twice).

use crate::domain::{EventFlight, TrackingEvent};
use chrono::{DateTime, FixedOffset, TimeDelta};
use proptest::prelude::*;

/// Few codes, places, piece counts and flights, so identities collide often: split shipments
/// and second occurrences are the cases the diff must tell apart.
const CODES: [&str; 4] = ["BKD", "RCS", "DEP", "DLV"];
const PLACES: [&str; 2] = ["FRA", "ORD"];
/// `LH 0400` is `LH400` written otherwise; `LH402` is another flight (a split).
const FLIGHTS: [Option<&str>; 4] = [None, Some("LH400"), Some("LH 0400"), Some("LH402")];
/// Offsets a source may write an instant in, in hours east of UTC.
const OFFSETS: [i32; 3] = [0, 1, -6];

/// One thing that happened to the shipment, as the source knows it at some poll.
#[derive(Debug, Clone)]
pub struct Fact {
    code: &'static str,
    place: &'static str,
    pieces: Option<u32>,
    flight: Option<&'static str>,
    /// Half-hours after the start of the history: coarse, so equal instants happen.
    half_hours: i64,
    planned: bool,
    weight: Option<u32>,
}

/// How one report writes its fact.
#[derive(Debug, Clone)]
pub struct Report {
    fact: usize,
    /// Index into [`OFFSETS`].
    offset: usize,
    /// Leaves the piece count out, as some sources do now and then.
    without_pieces: bool,
    twice: Option<Twice>,
}

/// The same event written a second time in one answer.
#[derive(Debug, Clone, Copy)]
pub enum Twice {
    /// The same instant under another offset.
    OtherOffset,
    /// The same wall-clock time under another offset (seed 003), without the weight.
    SameClockBare,
    /// The same wall-clock time under another offset, as complete as the first.
    SameClockFull,
}

/// What changes in the source's knowledge before a poll.
#[derive(Debug, Clone)]
pub enum Edit {
    Retime {
        fact: usize,
        by_half_hours: i64,
    },
    /// A planned event happens, later than planned.
    Happen {
        fact: usize,
        late_half_hours: i64,
    },
    Reweigh {
        fact: usize,
        weight: Option<u32>,
    },
}

/// One poll: the edits made before it, then the answer.
#[derive(Debug, Clone)]
pub struct Step {
    pub edits: Vec<Edit>,
    pub reports: Vec<Report>,
}

/// A shipment's facts and the polls of it.
#[derive(Debug, Clone)]
pub struct History {
    pub facts: Vec<Fact>,
    pub steps: Vec<Step>,
}

impl History {
    /// The snapshots the source answers with, one per step, edits applied as it goes.
    pub fn snapshots(&self) -> Vec<Vec<TrackingEvent>> {
        let mut facts = self.facts.clone();
        self.steps
            .iter()
            .map(|step| {
                step.edits.iter().for_each(|edit| edit.apply(&mut facts));
                step.reports
                    .iter()
                    .flat_map(|report| report.events(&facts[report.fact]))
                    .collect()
            })
            .collect()
    }
}

impl Edit {
    fn apply(&self, facts: &mut [Fact]) {
        match *self {
            Self::Retime {
                fact,
                by_half_hours,
            } => facts[fact].half_hours += by_half_hours,
            Self::Happen {
                fact,
                late_half_hours,
            } => {
                let fact = &mut facts[fact];
                if fact.planned {
                    fact.planned = false;
                    fact.half_hours += late_half_hours;
                }
            }
            Self::Reweigh { fact, weight } => facts[fact].weight = weight,
        }
    }
}

impl Report {
    fn events(&self, fact: &Fact) -> Vec<TrackingEvent> {
        let offset = OFFSETS[self.offset];
        let mut first = fact.event(offset);
        if self.without_pieces {
            first.pieces = None;
        }
        let other = OFFSETS[(self.offset + 1) % OFFSETS.len()];
        let second = match self.twice {
            None => return vec![first],
            Some(Twice::OtherOffset) => TrackingEvent {
                event_date: first.event_date.map(|d| d.with_timezone(&east(other))),
                ..first.clone()
            },
            Some(Twice::SameClockBare) => TrackingEvent {
                event_date: first.event_date.map(|d| same_clock(d, other)),
                weight: None,
                ..first.clone()
            },
            Some(Twice::SameClockFull) => TrackingEvent {
                event_date: first.event_date.map(|d| same_clock(d, other)),
                ..first.clone()
            },
        };
        vec![first, second]
    }
}

impl Fact {
    fn event(&self, offset: i32) -> TrackingEvent {
        let at = start() + TimeDelta::minutes(30 * self.half_hours);
        let flight = self.flight.map(|number| EventFlight {
            number: Some(number.to_owned()),
            destination: Some("ORD".to_owned()),
            scheduled_departure: Some(start() + TimeDelta::hours(50)),
            ..EventFlight::default()
        });
        TrackingEvent {
            event_location: Some(self.place.to_owned()),
            is_planned: self.planned,
            pieces: self.pieces,
            weight: self.weight.map(f64::from),
            flight,
            ..TrackingEvent::new(self.code, Some(at.with_timezone(&east(offset))))
        }
    }
}

fn start() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z").expect("a valid instant")
}

fn east(hours: i32) -> FixedOffset {
    FixedOffset::east_opt(hours * 3600).expect("a valid offset")
}

/// The same wall-clock time read under another offset: another instant.
fn same_clock(date: DateTime<FixedOffset>, hours: i32) -> DateTime<FixedOffset> {
    date.naive_local()
        .and_local_timezone(east(hours))
        .single()
        .expect("fixed offsets are unambiguous")
}

fn fact() -> impl Strategy<Value = Fact> {
    (
        prop::sample::select(&CODES[..]),
        prop::sample::select(&PLACES[..]),
        prop::option::of(1..=3u32),
        prop::sample::select(&FLIGHTS[..]),
        0..48i64,
        prop::bool::weighted(0.25),
        prop::option::of(prop::sample::select(&[40u32, 80][..])),
    )
        .prop_map(
            |(code, place, pieces, flight, half_hours, planned, weight)| Fact {
                code,
                place,
                pieces,
                flight,
                half_hours,
                planned,
                weight,
            },
        )
}

fn twice() -> impl Strategy<Value = Option<Twice>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some(Twice::OtherOffset)),
        1 => Just(Some(Twice::SameClockBare)),
        1 => Just(Some(Twice::SameClockFull)),
    ]
}

fn edit(facts: usize) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..facts, -4..=4i64).prop_map(|(fact, by_half_hours)| Edit::Retime {
            fact,
            by_half_hours
        }),
        (0..facts, 0..=3i64).prop_map(|(fact, late_half_hours)| Edit::Happen {
            fact,
            late_half_hours
        }),
        (
            0..facts,
            prop::option::of(prop::sample::select(&[40u32, 80][..]))
        )
            .prop_map(|(fact, weight)| Edit::Reweigh { fact, weight }),
    ]
}

/// A poll's answer: any subset of the facts (all of them more often than not, so truncated
/// answers are followed by restored ones), in any order, each written its own way.
fn step(facts: usize) -> impl Strategy<Value = Step> {
    let indices: Vec<usize> = (0..facts).collect();
    let chosen = prop_oneof![
        Just(indices.clone()),
        prop::sample::subsequence(indices, 0..=facts),
    ]
    .prop_shuffle();
    let writing = prop::collection::vec(
        (0..OFFSETS.len(), prop::bool::weighted(0.2), twice()),
        facts,
    );
    (prop::collection::vec(edit(facts), 0..=2), chosen, writing).prop_map(
        |(edits, chosen, writing)| Step {
            edits,
            reports: chosen
                .into_iter()
                .zip(writing)
                .map(|(fact, (offset, without_pieces, twice))| Report {
                    fact,
                    offset,
                    without_pieces,
                    twice,
                })
                .collect(),
        },
    )
}

/// Histories of up to 7 facts over up to 7 polls.
pub fn history() -> impl Strategy<Value = History> {
    prop::collection::vec(fact(), 1..=7).prop_flat_map(|facts| {
        let n = facts.len();
        (Just(facts), prop::collection::vec(step(n), 1..=7))
            .prop_map(|(facts, steps)| History { facts, steps })
    })
}
