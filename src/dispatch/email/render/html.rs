//! The HTML part, in the console's visual language: a navy header bar, one white card on a grey
//! page, the newest status large and coloured, planned events dashed and in italics, and a
//! **View in console** button.
//!
//! Mail programs strip `<style>` blocks, classes, scripts and remote content, and Outlook lays
//! out with Word: so every style is inline, the layout is tables (`role="presentation"`, so
//! screen readers do not announce them), the button is a table cell that stays a button where
//! padding on links is dropped, and nothing is fetched — no images, no web fonts. Data tables
//! (label/value rows) keep their table semantics.

use super::{Block, Document, Headline, Tone, escape};

pub(super) const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
pub(super) const NAVY: &str = "#16324f";
pub(super) const PAGE: &str = "#f5f7fa";
pub(super) const BORDER: &str = "#dde3ea";
pub(super) const ACCENT: &str = "#1f6feb";
pub(super) const MUTED: &str = "#57606a";
pub(super) const INK: &str = "#1f2328";
const GREEN: &str = "#1a7f37";
const AMBER: &str = "#9a6700";
const RED: &str = "#cf222e";

/// The page's width in pixels: what every mail program shows without scrolling sideways.
const WIDTH: u32 = 600;

impl Tone {
    pub(super) fn colour(self) -> &'static str {
        match self {
            Self::Progress => ACCENT,
            Self::Done => GREEN,
            Self::Pending => AMBER,
            Self::Failed => RED,
            Self::Quiet => MUTED,
        }
    }
}

impl Document {
    pub(super) fn html(&self, subject: &str) -> String {
        let mut card = String::new();
        if let Some(title) = &self.title {
            card.push_str(&format!(
                "<h1 style=\"margin:0 0 4px;font-size:14px;font-weight:600;color:{MUTED}\">{}</h1>\n",
                escape(title)
            ));
        }
        if let Some(headline) = &self.headline {
            card.push_str(&headline_html(headline));
        }
        card.push_str(&rows_html(&self.summary));
        if let Some(route) = &self.route {
            card.push_str(&super::route::strip_html(route));
        }
        if !self.events.is_empty() {
            card.push_str(&format!(
                "<h2 style=\"margin:24px 0 12px;font-size:13px;font-weight:700;\
                 letter-spacing:0.04em;text-transform:uppercase;color:{MUTED}\">{}</h2>\n",
                escape(self.section)
            ));
            for block in &self.events {
                card.push_str(&block_html(block));
            }
        }
        for notice in &self.notices {
            card.push_str(&format!(
                "<p style=\"margin:16px 0;padding:10px 14px;background-color:{PAGE};\
                 border:1px solid {BORDER};border-radius:6px\">{}</p>\n",
                escape(notice)
            ));
        }
        if let Some(url) = &self.console_url {
            card.push_str(&button_html("View in console", url));
        }
        page(subject, &card, &self.footer)
    }
}

/// The frame every email shares: header bar, card, footer.
fn page(subject: &str, card: &str, footer: &str) -> String {
    format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light\">\
         <title>{subject}</title></head>\n\
         <body style=\"margin:0;padding:0;background-color:{PAGE};color:{INK};font-family:{FONT}\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
         border=\"0\" bgcolor=\"{PAGE}\" style=\"background-color:{PAGE}\">\n\
         <tr><td align=\"center\" style=\"padding:24px 12px\">\n\
         <table role=\"presentation\" width=\"{WIDTH}\" cellpadding=\"0\" cellspacing=\"0\" \
         border=\"0\" style=\"width:100%;max-width:{WIDTH}px;font-family:{FONT};color:{INK}\">\n\
         <tr><td bgcolor=\"{NAVY}\" style=\"background-color:{NAVY};color:#ffffff;\
         padding:14px 24px;font-size:18px;font-weight:700;letter-spacing:0.02em;\
         border-radius:6px 6px 0 0\">Skyhook</td></tr>\n\
         <tr><td bgcolor=\"#ffffff\" style=\"background-color:#ffffff;border:1px solid {BORDER};\
         border-top:0;border-radius:0 0 6px 6px;padding:24px;font-size:15px;line-height:1.5\">\n\
         {card}</td></tr>\n\
         <tr><td style=\"padding:16px 24px;color:{MUTED};font-size:12px;line-height:1.5\">{}</td></tr>\n\
         </table>\n</td></tr></table>\n</body></html>\n",
        escape(footer),
        subject = escape(subject),
    )
}

fn headline_html(headline: &Headline) -> String {
    let mut out = format!(
        "<p style=\"margin:0;font-size:28px;line-height:1.25;font-weight:700;color:{}\">{}</p>\n",
        headline.tone.colour(),
        escape(&headline.status)
    );
    if let Some(detail) = &headline.detail {
        out.push_str(&format!(
            "<p style=\"margin:4px 0 0;font-size:14px;color:{MUTED}\">{}</p>\n",
            escape(detail)
        ));
    }
    out.push_str("<div style=\"height:16px;line-height:16px;font-size:0\">&nbsp;</div>\n");
    out
}

/// An event: a coloured bar on its left, solid for what happened, dashed and in italics with a
/// "planned" label for what is planned.
fn block_html(block: &Block) -> String {
    let (kind, border, extra) = match block.planned {
        true => (
            "planned",
            format!("3px dashed {}", Tone::Pending.colour()),
            "font-style:italic;",
        ),
        false => ("actual", format!("3px solid {}", block.tone.colour()), ""),
    };
    let label = match block.planned {
        true => format!(
            " <span style=\"display:inline-block;margin-left:6px;padding:0 5px;font-size:11px;\
             font-style:normal;font-weight:600;letter-spacing:0.04em;text-transform:uppercase;\
             color:{0};border:1px solid {0};border-radius:3px\">planned</span>",
            Tone::Pending.colour()
        ),
        false => String::new(),
    };
    format!(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
         border=\"0\" style=\"margin:0 0 14px\"><tr><td data-event=\"{kind}\" \
         style=\"border-left:{border};padding:2px 0 2px 12px;{extra}\">\n\
         <p style=\"margin:0 0 2px;font-size:15px;font-weight:600\">{}{label}</p>\n{}</td></tr></table>\n",
        escape(&block.heading),
        rows_html(&block.rows),
    )
}

/// Labelled values; the values' cells stay bare (`<td>…</td>`) and take the card's text style.
fn rows_html(rows: &[(&'static str, String)]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<table cellpadding=\"2\" cellspacing=\"0\" border=\"0\" style=\"font-size:14px\">\n",
    );
    for (label, value) in rows {
        out.push_str(&format!(
            "<tr><th align=\"left\" valign=\"top\" style=\"padding-right:16px;font-weight:600;\
             color:{MUTED}\">{}</th><td>{}</td></tr>\n",
            escape(label),
            escape(value)
        ));
    }
    out.push_str("</table>\n");
    out
}

/// A link that looks like a button in every mail program: the colour sits on the table cell,
/// so clients that drop a link's padding still show a filled button.
fn button_html(label: &str, url: &str) -> String {
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"margin:24px 0 4px\"><tr><td align=\"center\" bgcolor=\"{ACCENT}\" \
         style=\"background-color:{ACCENT};border-radius:6px\">\
         <a href=\"{url}\" target=\"_blank\" style=\"display:inline-block;padding:12px 22px;\
         font-family:{FONT};font-size:15px;font-weight:600;line-height:1.2;color:#ffffff;\
         text-decoration:none;border-radius:6px\">{label}</a></td></tr></table>\n",
        url = escape(url),
        label = escape(label),
    )
}
