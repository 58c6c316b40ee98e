//! The route of a shipment as a picture draws it: the stations from origin to destination, the
//! flights between them, and where the shipment is now. Derived from a summary's origin and
//! destination and the events, so the update email's route strip and the console's route
//! picture always agree.
//!
//! Carrier data is untidy, so the derivation is forgiving: events are taken in time order
//! whatever order they arrive in, events without a location add nothing, planned events add
//! stations and flights but never make a station reached, and each station appears once (data
//! that mentions a station again is far more often a re-report than a shipment going back).

use super::{ShipmentSummary, SummaryStatus, TrackingEvent};

/// Where a shipment goes and where it is now, derived from its summary and events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    pub stops: Vec<RouteStop>,
    pub legs: Vec<RouteLeg>,
    /// index into stops of where the shipment is now (last station with an actual event), None
    /// if nothing actual yet
    pub current: Option<usize>,
    /// The summary says so: every piece delivered at the destination, as `diff::status`
    /// judges it (a part delivery, or one elsewhere, is not).
    pub delivered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteStop {
    pub station: String,
    /// an actual event happened here
    pub reached: bool,
}

/// The flights between stops[i] and stops[i+1] (legs[i]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteLeg {
    /// Flight numbers as the events give them (e.g. "LH8160"), each once, in time order.
    pub flights: Vec<String>,
    /// an actual departure from its origin station (or arrival at its end) is known
    pub flown: bool,
}

/// Where a shipment is in relation to the route's current stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// Delivered there (the summary says so).
    Delivered,
    /// Left it for the next stop, not reported there yet.
    Departed,
    /// There.
    At,
}

/// Codes reported at the end of a flight: an event with one of these and a flight that names
/// no stations arrived on that flight at the event's location (any other code departs on it).
const ARRIVAL_CODES: &[&str] = &[
    "ARR", "RCF", "AWR", "NFD", "AWD", "CRC", "TGC", "CCD", "DLV", "DDL",
];

impl Route {
    pub fn of(summary: &ShipmentSummary, events: &[TrackingEvent]) -> Route {
        let (origin, destination) = (summary.origin.as_deref(), summary.destination.as_deref());
        // Dated events by time (instants, whatever their offsets); undated ones after them, in
        // the order given. The sort is stable, so ties keep the order given too.
        let mut ordered: Vec<&TrackingEvent> = events.iter().collect();
        ordered.sort_by_key(|e| (e.event_date.is_none(), e.event_date));

        let stations = stations(origin, destination, &ordered);
        let index = |station: Option<String>| {
            station.and_then(|s| stations.iter().position(|known| *known == s))
        };

        let mut stops: Vec<RouteStop> = stations
            .iter()
            .map(|station| RouteStop {
                station: station.clone(),
                reached: false,
            })
            .collect();
        let mut legs = vec![RouteLeg::default(); stops.len().saturating_sub(1)];

        for event in &ordered {
            let actual = !event.is_planned;
            let code = event.code.trim().to_ascii_uppercase();
            let location = index(station(event.event_location.as_deref()));
            if actual {
                if let Some(i) = location {
                    stops[i].reached = true;
                }
                // Departing from a station is flying the leg that leaves it.
                if code == "DEP"
                    && let Some(leg) = location.and_then(|i| legs.get_mut(i))
                {
                    leg.flown = true;
                }
            }
            let Some(flight) = &event.flight else {
                continue;
            };
            let from = index(station(flight.origin.as_deref()));
            let to = index(station(flight.destination.as_deref()));
            if actual {
                if let (Some(i), Some(_)) = (from, flight.actual_departure) {
                    stops[i].reached = true;
                }
                if let (Some(i), Some(_)) = (to, flight.actual_arrival) {
                    stops[i].reached = true;
                }
            }
            let arrives = ARRIVAL_CODES.contains(&code.as_str());
            let from = from.or(location.filter(|_| !arrives));
            let to = to.or(location.filter(|_| arrives));
            // The leg leaving the flight's origin; failing that, the one ending at its end.
            let Some(leg) = from
                .filter(|i| i + 1 < stops.len())
                .or_else(|| to.filter(|j| *j > 0).map(|j| j - 1))
                .map(|i| &mut legs[i])
            else {
                continue;
            };
            if let Some(number) = non_blank(flight.number.as_deref())
                && !leg.flights.iter().any(|known| known == number)
            {
                leg.flights.push(number.to_owned());
            }
            if actual && (flight.actual_departure.is_some() || flight.actual_arrival.is_some()) {
                leg.flown = true;
            }
        }

        let current = stops.iter().rposition(|stop| stop.reached);
        // Being at a station means every leg before it was flown, reported or not.
        if let Some(current) = current {
            for leg in &mut legs[..current] {
                leg.flown = true;
            }
        }
        Route {
            stops,
            legs,
            current,
            delivered: summary.status == SummaryStatus::Delivered,
        }
    }

    /// The stations joined by arrows: `FRA → DOH → SYD`.
    pub fn path(&self) -> String {
        self.stops
            .iter()
            .map(|stop| stop.station.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Where the shipment is in relation to its current stop; `None` before anything actual
    /// is known. The email's route strip and the console's route picture both take it from
    /// here, and so never disagree.
    pub fn state(&self) -> Option<(Whereabouts, &RouteStop)> {
        let stop = self.current_stop()?;
        let state = if self.delivered {
            Whereabouts::Delivered
        } else if self.between_stops() {
            Whereabouts::Departed
        } else {
            Whereabouts::At
        };
        Some((state, stop))
    }

    /// [`Route::state`] in words: `now at DOH`, `departed DOH`, `delivered at SYD`.
    pub fn whereabouts(&self) -> Option<String> {
        let (state, stop) = self.state()?;
        let state = match state {
            Whereabouts::Delivered => "delivered at",
            Whereabouts::Departed => "departed",
            Whereabouts::At => "now at",
        };
        Some(format!("{state} {}", stop.station))
    }

    /// The station the shipment is at now (or last left), if anything actual is known.
    pub fn current_stop(&self) -> Option<&RouteStop> {
        self.current.and_then(|i| self.stops.get(i))
    }

    /// Whether the shipment has left its current stop for the next one without being reported
    /// there yet: departed, on the way.
    pub fn between_stops(&self) -> bool {
        self.current
            .is_some_and(|c| c + 1 < self.stops.len() && self.legs[c].flown)
    }

    /// Whether the shipment has been at `stops[index]` or beyond it: also true of a station it
    /// passed without an event being reported there.
    pub fn passed(&self, index: usize) -> bool {
        index < self.stops.len()
            && (self.stops[index].reached || self.current.is_some_and(|c| index <= c))
    }
}

/// The route's stations in order: origin, the others in the order the (time-ordered) events
/// visit them, destination; each once.
fn stations(
    origin: Option<&str>,
    destination: Option<&str>,
    ordered: &[&TrackingEvent],
) -> Vec<String> {
    let mut stations: Vec<String> = Vec::new();
    let visited = ordered.iter().flat_map(|event| {
        let flight = event.flight.as_ref();
        // Within one event: where its flight leaves, where it happened, where its flight goes.
        [
            flight.and_then(|f| f.origin.as_deref()),
            event.event_location.as_deref(),
            flight.and_then(|f| f.destination.as_deref()),
        ]
    });
    for station in std::iter::once(origin).chain(visited).filter_map(station) {
        if !stations.contains(&station) {
            stations.push(station);
        }
    }
    if let Some(destination) = station(destination) {
        stations.retain(|s| *s != destination);
        stations.push(destination);
    }
    stations
}

/// A station code as compared and shown: trimmed and upper-cased, blank meaning none.
fn station(code: Option<&str>) -> Option<String> {
    non_blank(code).map(str::to_ascii_uppercase)
}

fn non_blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
