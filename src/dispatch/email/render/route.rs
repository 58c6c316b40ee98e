//! The shipment's route in an email: one line of text (`FRA → DOH → SYD (now at DOH)`), and in
//! HTML a strip of one table row — the stations from origin to destination, the ones passed
//! solid, the current one highlighted and marked `aria-current="location"`, the flights between
//! them in small text over a line that is solid once flown and dashed until then.

use super::html::{ACCENT, BORDER, MUTED, NAVY, PAGE};
use super::{Tone, escape};
use crate::domain::{Route, RouteLeg, Whereabouts};

/// The stations joined by arrows, then where the shipment is, if anything has happened.
pub(super) fn line(route: &Route) -> String {
    match route.whereabouts() {
        Some(now) => format!("{} ({now})", route.path()),
        None => route.path(),
    }
}

pub(super) fn strip_html(route: &Route) -> String {
    let leg_width = 100 / route.legs.len().max(1);
    let mut cells = String::new();
    for index in 0..route.stops.len() {
        if let Some(leg) = index.checked_sub(1).and_then(|i| route.legs.get(i)) {
            cells.push_str(&leg_html(leg, leg_width));
        }
        cells.push_str(&stop_html(route, index));
    }
    format!(
        "<table role=\"presentation\" data-route=\"\" width=\"100%\" cellpadding=\"0\" \
         cellspacing=\"0\" border=\"0\" bgcolor=\"{PAGE}\" style=\"margin:16px 0 8px;\
         background-color:{PAGE};border:1px solid {BORDER};border-radius:6px\"><tr>\n\
         {cells}</tr></table>\n"
    )
}

fn stop_html(route: &Route, index: usize) -> String {
    let stop = &route.stops[index];
    let current = route.current == Some(index);
    let here = match route.delivered {
        true => Tone::Done.colour(),
        false => ACCENT,
    };
    let badge = if current {
        format!("border:1px solid {here};background-color:{here};color:#ffffff")
    } else if route.passed(index) {
        format!("border:1px solid {NAVY};background-color:{NAVY};color:#ffffff")
    } else {
        // Not reached yet: drawn like a planned event.
        format!(
            "border:1px dashed {MUTED};background-color:#ffffff;color:{MUTED};font-style:italic"
        )
    };
    let (label, label_style) = if let Some((state, _)) = route.state().filter(|_| current) {
        let label = match state {
            Whereabouts::Delivered => "delivered",
            Whereabouts::Departed => "departed",
            Whereabouts::At => "now here",
        };
        (label, format!("color:{here};font-weight:700"))
    } else {
        let label = match index {
            0 => "origin",
            i if i + 1 == route.stops.len() => "destination",
            _ => "transit",
        };
        (label, format!("color:{MUTED}"))
    };
    let aria = if current {
        " aria-current=\"location\""
    } else {
        ""
    };
    let station = escape(&stop.station);
    format!(
        "<td align=\"center\" valign=\"top\" data-station=\"{station}\"{aria} \
         style=\"padding:12px 6px;white-space:nowrap\">\
         <span style=\"display:inline-block;padding:4px 9px;border-radius:6px;font-size:14px;\
         font-weight:700;letter-spacing:0.03em;{badge}\">{station}</span><br>\
         <span style=\"font-size:11px;line-height:18px;{label_style}\">{label}</span></td>\n"
    )
}

fn leg_html(leg: &RouteLeg, width: usize) -> String {
    let flights = match leg.flights.is_empty() {
        true => "&nbsp;".to_owned(),
        false => escape(&leg.flights.join(" ")),
    };
    let (kind, line, text) = match leg.flown {
        true => ("flown", format!("2px solid {NAVY}"), ""),
        false => ("ahead", format!("2px dashed {MUTED}"), "font-style:italic;"),
    };
    format!(
        "<td valign=\"top\" width=\"{width}%\" data-leg=\"{kind}\" style=\"padding:12px 2px 0\">\
         <div style=\"font-size:11px;line-height:14px;text-align:center;color:{MUTED};{text}\">\
         {flights}</div><div style=\"margin-top:3px;border-top:{line};height:0;line-height:0;\
         font-size:0\">&nbsp;</div></td>\n"
    )
}
