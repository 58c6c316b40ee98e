//! The route picture: a shipment's [`Route`] laid out as an inline SVG strip (origin → transit
//! stations → destination, the flights between them, where the shipment is now). Only
//! coordinates and labels are computed here; `templates/console/route.html` draws them, so
//! every label goes through the template's escaping.

use crate::domain::route::Route;

const WIDTH: u32 = 720;
const MARGIN: u32 = 60;
/// The picture's height; the line runs through its middle.
pub const HEIGHT: u32 = 110;
const LINE_Y: u32 = 55;

pub struct RoutePicture {
    pub width: u32,
    pub height: u32,
    pub line_y: u32,
    pub stops: Vec<StopMark>,
    pub legs: Vec<LegLine>,
    /// For screen readers: `Route FRA → DOH → SYD; now at DOH`.
    pub summary: String,
}

pub struct StopMark {
    pub x: u32,
    pub station: String,
    pub reached: bool,
    pub current: bool,
}

pub struct LegLine {
    pub x1: u32,
    pub x2: u32,
    /// Where its flights are written.
    pub label_x: u32,
    pub flights: String,
    pub flown: bool,
}

impl RoutePicture {
    pub fn of(route: &Route) -> Self {
        let n = route.stops.len() as u32;
        let x = |i: usize| match n {
            0 | 1 => WIDTH / 2,
            _ => MARGIN + (WIDTH - 2 * MARGIN) * i as u32 / (n - 1),
        };
        let stops = route
            .stops
            .iter()
            .enumerate()
            .map(|(i, stop)| StopMark {
                x: x(i),
                station: stop.station.clone(),
                // As the email draws it: a stop behind the shipment was passed, reported or not.
                reached: route.passed(i),
                current: route.current == Some(i),
            })
            .collect();
        let legs = route
            .legs
            .iter()
            .enumerate()
            .map(|(i, leg)| LegLine {
                x1: x(i),
                x2: x(i + 1),
                label_x: (x(i) + x(i + 1)) / 2,
                flights: leg.flights.join(" · "),
                flown: leg.flown,
            })
            .collect();
        let path = route.path();
        let now = route
            .whereabouts()
            .unwrap_or_else(|| "not moved yet".to_owned());
        Self {
            width: WIDTH,
            height: HEIGHT,
            line_y: LINE_Y,
            stops,
            legs,
            summary: if path.is_empty() {
                "Route not known yet".to_owned()
            } else {
                format!("Route {path}; {now}")
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.stops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::route::{RouteLeg, RouteStop};

    fn stop(station: &str, reached: bool) -> RouteStop {
        RouteStop {
            station: station.to_owned(),
            reached,
        }
    }

    #[test]
    fn stops_are_spread_along_the_line_and_the_current_one_is_marked() {
        let route = Route {
            stops: vec![stop("FRA", true), stop("DOH", true), stop("SYD", false)],
            legs: vec![
                RouteLeg {
                    flights: vec!["QR68".into()],
                    flown: true,
                },
                RouteLeg {
                    flights: vec!["QR908".into(), "QR9".into()],
                    flown: false,
                },
            ],
            current: Some(1),
            delivered: false,
        };
        let picture = RoutePicture::of(&route);
        let xs: Vec<u32> = picture.stops.iter().map(|s| s.x).collect();
        assert_eq!(xs, [MARGIN, WIDTH / 2, WIDTH - MARGIN]);
        assert_eq!(
            picture.stops.iter().map(|s| s.current).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert_eq!((picture.legs[0].x1, picture.legs[0].x2), (xs[0], xs[1]));
        assert_eq!(picture.legs[1].flights, "QR908 · QR9");
        assert!(picture.legs[0].flown && !picture.legs[1].flown);
        assert_eq!(picture.summary, "Route FRA → DOH → SYD; now at DOH");
        let departed = Route {
            legs: vec![
                route.legs[0].clone(),
                RouteLeg {
                    flown: true,
                    ..route.legs[1].clone()
                },
            ],
            ..route.clone()
        };
        assert_eq!(
            RoutePicture::of(&departed).summary,
            "Route FRA → DOH → SYD; departed DOH"
        );
    }

    #[test]
    fn a_stop_behind_the_shipment_is_drawn_passed_as_the_email_draws_it() {
        // Departed FRA, delivered at SYD, nothing reported at DOH.
        let route = Route {
            stops: vec![stop("FRA", true), stop("DOH", false), stop("SYD", true)],
            legs: vec![RouteLeg::default(), RouteLeg::default()],
            current: Some(2),
            delivered: true,
        };
        let picture = RoutePicture::of(&route);
        let drawn: Vec<bool> = picture.stops.iter().map(|s| s.reached).collect();
        let emailed: Vec<bool> = (0..3).map(|i| route.passed(i)).collect();
        assert_eq!(drawn, [true, true, true]);
        assert_eq!(drawn, emailed);
    }

    #[test]
    fn one_stop_is_centred_and_no_stops_make_no_picture() {
        let single = Route {
            stops: vec![stop("FRA", false)],
            ..Route::default()
        };
        assert_eq!(RoutePicture::of(&single).stops[0].x, WIDTH / 2);
        assert!(RoutePicture::of(&single).summary.ends_with("not moved yet"));
        let empty = RoutePicture::of(&Route::default());
        assert!(empty.is_empty());
        assert_eq!(empty.summary, "Route not known yet");
    }
}
